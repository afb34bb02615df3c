import { Box, Text } from 'ink';
import type { StationView } from '../store/types.js';

export interface StationListProps {
  /** Stations in their stable order: the number on the map is the index + 1. */
  stations: StationView[];
  selectedId?: string;
  focused: boolean;
  rows: number;
  width: number;
  priceNow?: number;
  truth: 'live' | 'events';
}

/** An occupancy bar: taken of total ports, `width` cells ('?' dots when the total is unknown). */
export function occupancyBar(taken: number, total: number, width = 10): string {
  if (total <= 0) return '?'.padEnd(width, '·');
  const filled = Math.min(width, Math.round((Math.min(taken, total) / total) * width));
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}

/** Fits text to exactly `width` columns (cut with …, or padded). */
export function fit(text: string, width: number): string {
  if (width <= 0) return '';
  return text.length > width ? text.slice(0, width - 1) + '…' : text.padEnd(width);
}

/** A window of `rows` items around the selected index. */
export function windowAround<T>(items: T[], selected: number, rows: number): { start: number; items: T[] } {
  const start = Math.max(0, Math.min(items.length - rows, selected - Math.floor(rows / 2)));
  return { start, items: items.slice(start, start + rows) };
}

/** Stations by number (as on the map): free/total ports, occupancy bar, queue, the one price now. */
export function StationList({ stations, selectedId, focused, rows, width, priceNow, truth }: StationListProps) {
  const selected = Math.max(0, stations.findIndex((s) => s.id === selectedId));
  const { start, items } = windowAround(stations, selected, rows);
  const full = stations.filter((s) => s.ports > 0 && s.taken >= s.ports).length;
  const nameWidth = Math.max(8, width - 25);
  return (
    <Box flexDirection="column" height={rows + 1} overflow="hidden">
      <Text bold wrap="truncate" color={focused ? 'cyan' : undefined}>
        Stations ({stations.length}{full ? `, ${full} full` : ''})<Text dimColor>{truth === 'live' ? ' live' : ' from events since start'}{priceNow !== undefined ? ` · $${priceNow.toFixed(2)}/kWh now` : ''}</Text>
      </Text>
      {!stations.length && <Text dimColor>no stations yet (file or booking events)</Text>}
      {items.map((s, i) => {
        const free = s.ports ? Math.max(0, s.ports - s.taken) : undefined;
        const isSel = start + i === selected && selectedId !== undefined;
        const color = s.ports && s.taken >= s.ports ? 'red' : s.ports && s.taken / s.ports >= 0.7 ? 'yellow' : 'green';
        return (
          <Text key={s.id} wrap="truncate" inverse={isSel && focused} bold={isSel}>
            <Text color="magenta">{String(start + i + 1).padStart(2)}</Text> {fit(s.name, nameWidth)} {s.offline ? <Text color="red" bold>{'OFFLINE'.padEnd(6)}</Text> : <Text color={color}>{occupancyBar(s.taken, s.ports, 6)}</Text>} {s.offline ? 'no ports'.padStart(9) : `${free ?? '?'}/${s.ports || '?'} free`.padStart(9)} <Text color={s.queue ? 'yellow' : undefined} dimColor={!s.queue}>{`q${s.queue}`.padEnd(3)}</Text>
          </Text>
        );
      })}
    </Box>
  );
}
