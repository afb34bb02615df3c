import { useSyncExternalStore } from 'react';
import type { FleetSnapshot, FleetStore } from '../store/types.js';

/** The store's last flushed snapshot; React re-renders only when the store flushes (≤ 10 Hz). */
export function useFleetSnapshot(store: FleetStore): FleetSnapshot {
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
}
