import { Box, Text } from 'ink';
import { useMemo, type ReactElement } from 'react';
import type { CarView, StationView } from '../store/types.js';
import { projectMap, type MapCell } from '../store/map-grid.js';

export interface FleetMapProps {
  cars: ReadonlyMap<string, CarView>;
  stations: StationView[];
  cols: number;
  rows: number;
  /** Snapshot version: the car map is mutated in place, so this is what invalidates the drawing. */
  version: number;
}

const carColor = { green: 'green', yellow: 'yellow', red: 'red' } as const;

/** The fleet's area, north up: ● cars coloured by battery band, ◆ stations (red when full). */
export function FleetMap({ cars, stations, cols, rows, version }: FleetMapProps) {
  const { cells, outside } = useMemo(() => projectMap(cars.values(), stations, cols, rows), [cars, stations, cols, rows, version]);
  return (
    <Box flexDirection="column" alignItems="flex-start" flexShrink={0}>
      <Box flexDirection="column" borderStyle="round" borderColor="gray">
        {cells.map((row, i) => (
          <Text key={i}>{runs(row)}</Text>
        ))}
      </Box>
      <Text dimColor wrap="truncate">
        ● car ◆ station{outside ? ` · ${outside} off-map` : ''}
      </Text>
    </Box>
  );
}

/** Groups equal neighbouring cells into one <Text> each, keeping the element count small. */
function runs(row: MapCell[]) {
  const out: ReactElement[] = [];
  let i = 0;
  while (i < row.length) {
    const key = cellKey(row[i]);
    let j = i + 1;
    while (j < row.length && cellKey(row[j]) === key) j++;
    out.push(renderRun(row[i], j - i, i));
    i = j;
  }
  return out;
}

function cellKey(c: MapCell): string {
  return c.kind === 'car' ? `c${c.band}` : c.kind === 'station' ? `s${c.busy}` : 'e';
}

function renderRun(c: MapCell, n: number, key: number) {
  if (c.kind === 'car') return <Text key={key} color={carColor[c.band]}>{'●'.repeat(n)}</Text>;
  if (c.kind === 'station') return <Text key={key} color={c.busy ? 'red' : 'magenta'} bold>{'◆'.repeat(n)}</Text>;
  return <Text key={key} dimColor>{'·'.repeat(n)}</Text>;
}
