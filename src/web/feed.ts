import type { TailSources } from '../tui/sources/types.js';
import { StationsUnavailableError } from '../tui/sources/live-stations.js';
import type { WebHub } from './hub.js';

export interface WebFeedOptions {
  /** Live occupancy poll (ListStations or Redis). */
  stationsEveryMs?: number;
  pricesEveryMs?: number;
  forecastHours?: number;
}

/**
 * Feeds the hub from the tail's sources: the event stream into the store (with the source's status),
 * the stations file once, live occupancy and grid prices on a poll. Returns stop().
 */
export async function startWebFeed(sources: TailSources, hub: WebHub, opts: WebFeedOptions = {}): Promise<() => Promise<void>> {
  const { store } = hub;
  const timers: ReturnType<typeof setInterval>[] = [];
  const every = (ms: number, fn: () => Promise<void>) => {
    void fn();
    const t = setInterval(() => void fn(), ms);
    t.unref?.();
    timers.push(t);
  };
  await sources.events.start({
    onEvents: (events) => hub.ingest(events),
    onStatus: (s) => store.setStatus(s),
    onInvalid: (n) => store.countInvalid(n),
    onLag: (lag) => store.setLag(lag),
  });
  const stations = sources.stations;
  if (stations) {
    store.setStations(await stations.list().catch(() => []));
    if (stations.live) {
      let givenUp = false;
      every(opts.stationsEveryMs ?? 2_000, async () => {
        if (givenUp) return;
        try {
          store.setStationOccupancy(await stations.live!());
        } catch (err) {
          store.setStationsEventsOnly();
          if (err instanceof StationsUnavailableError && err.permanent) givenUp = true;
        }
      });
    }
  }
  const prices = sources.prices;
  if (prices)
    every(opts.pricesEveryMs ?? 15_000, async () => {
      try {
        const [now, curve] = await Promise.all([prices.current(), prices.forecast(opts.forecastHours ?? 24)]);
        store.setPrices(now, curve);
      } catch (err) {
        store.setPrices(undefined, undefined, (err as Error).message);
      }
    });
  return async () => {
    for (const t of timers) clearInterval(t);
    await sources.events.stop().catch(() => {});
    await stations?.close?.().catch(() => {});
  };
}
