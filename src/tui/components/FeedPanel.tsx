import { Box, Text } from 'ink';
import type { FeedItem } from '../store/types.js';
import { FeedLine } from './FeedLine.js';

export interface FeedPanelProps {
  items: FeedItem[];
  /** Inner rows, the title line included. */
  rows: number;
  width: number;
  /** Lines scrolled back from the newest; 0 = following. */
  offset: number;
  skipped: number;
  rate: number;
  paused: boolean;
}

/** The event feed inside the screen: its own scrollback (PgUp/PgDn, f follows), sampled at high rates. */
export function FeedPanel({ items, rows, width, offset, skipped, rate, paused }: FeedPanelProps) {
  const end = Math.max(0, items.length - offset);
  const shown = items.slice(Math.max(0, end - (rows - 1)), end);
  const state = paused ? 'paused' : offset ? `scrolled back ${offset} · f follows` : 'following';
  return (
    <Box flexDirection="column" borderStyle="round" borderColor="gray" width={width} height={rows + 2} overflow="hidden">
      <Text bold wrap="truncate">
        Feed <Text dimColor>{`${state} · ${skipped} sampled out${rate > 100 ? ' (sampling at this rate)' : ''} · PgUp/PgDn scroll`}</Text>
      </Text>
      {shown.map((item) => (
        <FeedLine key={item.id} item={item} />
      ))}
    </Box>
  );
}
