import { Box, Text } from 'ink';
import { bandColor } from '../store/bands.js';
import type { CarView } from '../store/types.js';
import { windowAround } from './StationList.js';

export interface CarListProps {
  cars: CarView[];
  /** Station number per car with a booking (from its last booking event). */
  selectedId?: string;
  focused: boolean;
  rows: number;
  title: string;
}

/** The cars the operator is likely to act on (lowest battery first, or the search's matches). */
export function CarList({ cars, selectedId, focused, rows, title }: CarListProps) {
  const selected = Math.max(0, cars.findIndex((c) => c.carId === selectedId));
  const { start, items } = windowAround(cars, selected, rows);
  return (
    <Box flexDirection="column" height={rows + 1} overflow="hidden">
      <Text bold wrap="truncate" color={focused ? 'cyan' : undefined}>
        {title}
      </Text>
      {!cars.length && <Text dimColor>no cars yet</Text>}
      {items.map((c, i) => (
        <Text key={c.carId} wrap="truncate" inverse={focused && start + i === selected && selectedId !== undefined}>
          {c.carId.padEnd(10)} <Text color={bandColor[c.band]}>{`${c.battery.toFixed(1)}%`.padStart(6)}</Text> {`${c.velocity.toFixed(0)} km/h`.padStart(8)}
          {c.critical ? <Text color="red"> ⚠</Text> : ''}
        </Text>
      ))}
    </Box>
  );
}
