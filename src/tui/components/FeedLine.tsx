import { Text } from 'ink';
import type { FeedItem } from '../store/types.js';
import { formatEventLine } from '../store/format.js';

const toneColor = { info: 'gray', warn: 'yellow', error: 'red' } as const;

/** One feed line: an event in the original format, or a note (reconnects, pauses, sampling). */
export function FeedLine({ item }: { item: FeedItem }) {
  if (item.kind === 'note') return <Text color={toneColor[item.tone]} wrap="truncate">{item.text}</Text>;
  return <Text wrap="truncate">{formatEventLine(item.event)}</Text>;
}
