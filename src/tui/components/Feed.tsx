import { Static } from 'ink';
import type { FeedItem } from '../store/types.js';
import { FeedLine } from './FeedLine.js';

/**
 * The scrolling history above the dashboard. <Static> prints each item once; a new generation
 * (new key) starts from a fresh array so the items React holds stay bounded.
 */
export function Feed({ feed }: { feed: { generation: number; items: FeedItem[] } }) {
  return (
    <Static key={feed.generation} items={feed.items}>
      {(item) => <FeedLine key={item.id} item={item} />}
    </Static>
  );
}
