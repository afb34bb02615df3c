import { Box, Text } from 'ink';
import type { StationView } from '../store/types.js';

export interface StationsPanelProps {
  stations: StationView[];
  currentPrice?: number;
  maxRows: number;
  width: number;
  /** Where occupancy comes from (FleetSnapshot.stationTruth); shown next to the title. */
  truth?: 'live' | 'events';
}

const truthText = { live: 'live', events: 'from events since start' } as const;

/** Busiest first: occupancy bar (taken/total), queue length and price. */
export function StationsPanel({ stations, currentPrice, maxRows, width, truth }: StationsPanelProps) {
  const busiest = [...stations].sort((a, b) => b.taken + b.queue - (a.taken + a.queue) || a.name.localeCompare(b.name));
  const shown = busiest.slice(0, Math.max(1, maxRows));
  const nameWidth = Math.max(8, Math.min(22, width - 34));
  const full = stations.filter((s) => s.ports > 0 && s.taken >= s.ports).length;
  return (
    <Box flexDirection="column">
      <Text bold wrap="truncate">
        Stations <Text dimColor>({stations.length}{full ? `, ${full} full` : ''})</Text>
        {truth && <Text color={truth === 'live' ? 'green' : 'yellow'} dimColor={truth === 'live'}>{` ${truthText[truth]}`}</Text>}
      </Text>
      {!stations.length && <Text dimColor>no stations yet (file or booking events)</Text>}
      {shown.map((s) => (
        <StationRow key={s.id} station={s} nameWidth={nameWidth} price={s.priceRate ?? currentPrice} />
      ))}
      {busiest.length > shown.length && <Text dimColor>… {busiest.length - shown.length} more</Text>}
    </Box>
  );
}

export function occupancyBar(taken: number, total: number, width = 10): string {
  if (total <= 0) return '?'.padEnd(width, '·');
  const filled = Math.min(width, Math.round((Math.min(taken, total) / total) * width));
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}

function StationRow({ station: s, nameWidth, price }: { station: StationView; nameWidth: number; price?: number }) {
  const ratio = s.ports > 0 ? s.taken / s.ports : 0;
  const color = ratio >= 1 ? 'red' : ratio >= 0.7 ? 'yellow' : 'green';
  const name = s.name.length > nameWidth ? s.name.slice(0, nameWidth - 1) + '…' : s.name.padEnd(nameWidth);
  return (
    <Text wrap="truncate">
      {name} <Text color={color}>{occupancyBar(s.taken, s.ports)}</Text> {`${s.taken}/${s.ports || '?'}`.padStart(5)}
      {'  '}
      <Text color={s.queue ? 'yellow' : undefined} dimColor={!s.queue}>
        q{s.queue}
      </Text>
      {'  '}
      {price !== undefined ? `$${price.toFixed(2)}` : '$–'}
    </Text>
  );
}
