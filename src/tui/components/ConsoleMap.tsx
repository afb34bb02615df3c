import { Box, Text } from 'ink';
import { useMemo } from 'react';
import { drawMap, type MapRun, type MapStation } from '../store/braille-map.js';
import type { CarView } from '../store/types.js';

export interface ConsoleMapProps {
  cars: ReadonlyMap<string, CarView>;
  stations: MapStation[];
  cols: number;
  rows: number;
  selected?: { lat: number; lon: number; station?: number };
  /** Snapshot version: the car map is mutated in place, so this is what invalidates the drawing. */
  version: number;
}

const styleProps: Record<MapRun['style'], { color?: string; dimColor?: boolean; bold?: boolean; inverse?: boolean }> = {
  empty: {},
  grid: { dimColor: true },
  green: { color: 'green' },
  yellow: { color: 'yellow' },
  red: { color: 'red' },
  station: { color: 'magenta', bold: true },
  stationFull: { color: 'red', bold: true, inverse: true },
  stationSelected: { color: 'cyan', bold: true, inverse: true },
  car: { color: 'cyan', bold: true },
  link: { color: 'cyan' },
};

/** The fleet area on a braille canvas: the street grid's frame, cars by battery band, stations by number. */
export function ConsoleMap({ cars, stations, cols, rows, selected, version }: ConsoleMapProps) {
  const drawn = useMemo(() => drawMap({ cars: cars.values(), stations, cols, rows, selected }), [cars, stations, cols, rows, selected, version]);
  return (
    <Box flexDirection="column" flexShrink={0} width={cols + 2}>
      <Box flexDirection="column" borderStyle="round" borderColor="gray" height={rows + 2} overflow="hidden">
        {drawn.rows.map((runs, i) => (
          <Text key={i} wrap="truncate">
            {runs.map((r, j) => (
              <Text key={j} {...styleProps[r.style]}>
                {r.text}
              </Text>
            ))}
          </Text>
        ))}
      </Box>
      <Text dimColor wrap="truncate">
        <Text color="green">●</Text>
        <Text color="yellow">●</Text>
        <Text color="red">●</Text> cars by battery · <Text color="magenta">◆n</Text> station n · ◉ selected{drawn.outside ? ` · ${drawn.outside} off-map` : ''}
      </Text>
    </Box>
  );
}
