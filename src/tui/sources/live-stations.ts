import * as grpc from '@grpc/grpc-js';
import type { FleetClient } from '../../grpc/client.js';
import type { FleetQueries } from '../../services/queries/fleet-queries.js';
import type { StationCatalog } from './types.js';

/** A live station query that failed; `permanent` when asking again cannot help (an older server, no Redis configured). */
export class StationsUnavailableError extends Error {
  constructor(
    message: string,
    readonly permanent = false,
  ) {
    super(message);
    this.name = 'StationsUnavailableError';
  }
}

/** What the tail asks of FleetQueries (src/services/queries/fleet-queries.ts). */
export type StationQueries = Pick<FleetQueries, 'source' | 'listStations' | 'nearest' | 'close'>;

export interface LiveStationCatalogOptions {
  /** Positions and port counts when nothing live answers. */
  file: StationCatalog;
  label: string;
  /** Opens the queries; called again after it fails, so a server or engine that comes up later is found. */
  open: () => Promise<StationQueries>;
  /** Per call (default 3 s): a stalled engine must not stall the poll or the nearest answer. */
  timeoutMs?: number;
  /** Errors that asking again cannot fix (e.g. a ConfigError: no Redis URL). */
  isPermanent?: (err: unknown) => boolean;
}

/**
 * The stations file plus live answers from the server or the engines. Failures reject with
 * StationsUnavailableError; a permanent one is remembered so the caller stops asking.
 */
export function createLiveStationCatalog(opts: LiveStationCatalogOptions): StationCatalog {
  const timeoutMs = opts.timeoutMs ?? 3_000;
  let opened: Promise<StationQueries> | undefined;
  let permanent: StationsUnavailableError | undefined;

  const queries = () => {
    if (opened) return opened;
    const attempt = opts.open();
    opened = attempt;
    // A failed open is retried on the next call; a slow one is awaited again, not opened twice.
    attempt.catch(() => {
      if (opened === attempt) opened = undefined;
    });
    return attempt;
  };

  async function call<T>(fn: (q: StationQueries) => Promise<T>): Promise<T> {
    if (permanent) throw permanent;
    try {
      return await withTimeout((async () => fn(await queries()))(), timeoutMs);
    } catch (err) {
      const e = err instanceof StationsUnavailableError ? err : new StationsUnavailableError((err as Error).message ?? String(err), opts.isPermanent?.(err) ?? false);
      if (e.permanent) permanent = e;
      throw e;
    }
  }

  return {
    list: () => opts.file.list(),
    liveLabel: opts.label,
    live: () => call((q) => q.listStations()),
    nearest: (from, limit) => call((q) => q.nearest(from, { limit, available: false })),
    async close() {
      const q = await withTimeout(opened ?? Promise.resolve(undefined), 1_000).catch(() => undefined);
      await q?.close().catch(() => {});
    },
  };
}

/** The part of FleetClient the station queries use. */
export type StationQueryClient = Pick<FleetClient, 'listStations' | 'nearestStations' | 'close'>;

/**
 * Station queries over the server's ListStations / NearestStations RPCs. After a lost connection
 * or a refused token the client is opened again, re-reading the token (a restarted `greenlane up`
 * may have written a new one), as the WatchEvents source does.
 */
export function serverStationQueries(address: string, openClient: () => StationQueryClient, deadlineMs = 3_000): StationQueries {
  let client: StationQueryClient | undefined;

  async function call<T>(fn: (c: StationQueryClient) => Promise<T>): Promise<T> {
    const c = (client ??= openClient());
    try {
      return await fn(c);
    } catch (err) {
      const e = err as grpc.ServiceError;
      if (e.code === grpc.status.UNIMPLEMENTED) throw new StationsUnavailableError(`the server at ${address} has no station queries (an older version)`, true);
      if (e.code === grpc.status.UNAUTHENTICATED || e.code === grpc.status.UNAVAILABLE) {
        c.close();
        if (client === c) client = undefined;
      }
      throw new StationsUnavailableError(e.details || e.message);
    }
  }

  return {
    source: `server ${address}`,
    listStations: () => call((c) => c.listStations(deadlineMs)),
    nearest: (from, o) =>
      call(async (c) => {
        const req = 'carId' in from ? { car_id: from.carId } : { latitude: from.lat, longitude: from.lon };
        const res = await c.nearestStations({ ...req, limit: o.limit, available_only: o.available }, deadlineMs);
        return { from: 'carId' in from ? { ...res.from, car: from.carId } : res.from, stations: res.stations };
      }),
    async close() {
      client?.close();
      client = undefined;
    },
  };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StationsUnavailableError(`no answer within ${(ms / 1000).toFixed(1)} s`)), ms);
    timer.unref?.();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
