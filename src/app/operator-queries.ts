import * as grpc from '@grpc/grpc-js';
import { ConfigError, EngineUnreachableError, GreenlaneError, UsageError } from '../errors.js';
import type { LoadedConfig } from '../config/load.js';
import { clientToken, readDevToken } from '../config/token.js';
import { createFleetClient, type FleetClient } from '../grpc/client.js';
import { tlsFromConfig } from '../grpc/tls.js';
import type { Logger } from '../observability/logger.js';
import { openFleetState, openPriceSource, openReservations, openStore } from './engines.js';
import { createFleetQueries, QueryError, type FleetQueries, type FleetQueryDeps } from '../services/queries/fleet-queries.js';

export type QueryEngine = 'redis' | 'store';

export interface OpenQueriesOptions {
  logger: Logger;
  /** Explicit --token; embedded mode falls back to the dev token. */
  token?: string;
  /** External mode: which engines the command reads (only those are connected). */
  need: QueryEngine[];
  /** How long to wait for the embedded server (default 2 s). */
  connectTimeoutMs?: number;
}

const START_SERVER = 'Start it with `greenlane up` (embedded mode) in another terminal, or point --server / GREENLANE_SERVER at a running one.';

/**
 * Where `greenlane stations|bookings|sessions` get their answers. Embedded mode: the running
 * server's query RPCs (its state lives in that process). External mode: the engines themselves —
 * Redis for stations and bookings, PostgreSQL for sessions — so no server needs to run.
 * Failures become the shared errors of src/errors.ts (engine unreachable, usage, config: the token).
 */
export async function openFleetQueries(loaded: LoadedConfig, opts: OpenQueriesOptions): Promise<FleetQueries> {
  const queries = loaded.mode === 'embedded' ? await openRemote(loaded, opts) : await openEngines(loaded, opts);
  return withCliErrors(queries);
}

async function openRemote(loaded: LoadedConfig, opts: OpenQueriesOptions): Promise<FleetQueries> {
  const { server, dataDir } = loaded.config;
  // No token and no dev token: no embedded server has ever run with this data dir.
  if (!opts.token && !readDevToken(dataDir)) {
    throw new EngineUnreachableError('The GreenLane server', server, new Error(`no dev token in ${dataDir}, so no embedded server has run here`), [START_SERVER]);
  }
  const client = createFleetClient(server, clientToken(opts.token, dataDir), { tls: tlsFromConfig(loaded.config) });
  try {
    await client.waitForReady(opts.connectTimeoutMs ?? 2_000);
  } catch (err) {
    client.close();
    throw new EngineUnreachableError('The GreenLane server', server, err, [START_SERVER]);
  }
  return remoteQueries(client, server);
}

/** FleetQueries over a running server's RPCs. */
export function remoteQueries(client: FleetClient, address: string): FleetQueries {
  const call = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw fromGrpc(err as grpc.ServiceError, address);
    }
  };
  return {
    source: `server ${address}`,
    listStations: () => call(() => client.listStations()),
    nearest: (from, o) =>
      call(async () => {
        const req = 'carId' in from ? { car_id: from.carId } : { latitude: from.lat, longitude: from.lon };
        const res = await client.nearestStations({ ...req, limit: o.limit, available_only: o.available });
        return { from: 'carId' in from ? { ...res.from, car: from.carId } : res.from, stations: res.stations };
      }),
    listBookings: (filter) => call(() => client.listBookings(filter)),
    listSessions: (q) => call(() => client.listSessions(q)),
    close: async () => client.close(),
  };
}

async function openEngines(loaded: LoadedConfig, opts: OpenQueriesOptions): Promise<FleetQueries> {
  const { config } = loaded;
  const { logger } = opts;
  const deps: FleetQueryDeps = { source: 'engines' };
  const closers: (() => Promise<void> | void)[] = [];
  const close = async () => {
    for (const c of closers.reverse()) await Promise.resolve(c()).catch(() => {});
  };
  try {
    if (opts.need.includes('redis')) {
      if (!config.redisUrl) throw new ConfigError('External mode reads stations and bookings from Redis: GREENLANE_REDIS_URL is not set', ['Set GREENLANE_REDIS_URL (or --redis-url), or unset every engine setting to ask the embedded server.']);
      deps.fleet = await openFleetState(config, { logger });
      closers.push(() => deps.fleet!.close());
      const reservations = await openReservations(config, { logger });
      deps.reservations = reservations;
      closers.push(() => reservations.close?.());
      const prices = await openPriceSource('external', config, { logger, timeoutMs: 1_000 });
      closers.push(() => prices.close());
      deps.price = async () => (await prices.priceAt(Date.now())).price_per_kwh;
    }
    if (opts.need.includes('store')) {
      if (!config.databaseUrl) throw new ConfigError('External mode reads sessions from PostgreSQL: GREENLANE_DATABASE_URL is not set', ['Set GREENLANE_DATABASE_URL (or --database-url), or unset every engine setting to ask the embedded server.']);
      const store = await openStore(config, { logger, poolSize: 1 });
      closers.push(() => store.close());
      deps.store = store;
    }
  } catch (err) {
    await close();
    throw err;
  }
  return createFleetQueries({ ...deps, close });
}

/** Turns QueryError (engine-backed) into the CLI's errors; remote errors are already converted. */
function withCliErrors(q: FleetQueries): FleetQueries {
  const wrap = <A extends unknown[], R>(fn: (...a: A) => Promise<R>) => async (...a: A): Promise<R> => {
    try {
      return await fn(...a);
    } catch (err) {
      if (err instanceof QueryError) throw fromQueryError(err);
      throw err;
    }
  };
  return {
    source: q.source,
    listStations: wrap(q.listStations),
    nearest: wrap(q.nearest),
    listBookings: wrap(q.listBookings),
    listSessions: wrap(q.listSessions),
    close: q.close,
  };
}

function fromQueryError(err: QueryError): GreenlaneError {
  if (err.kind === 'unavailable') return new GreenlaneError(err.message, 'bug', [], 'UNAVAILABLE');
  return new UsageError(err.message);
}

export function fromGrpc(err: grpc.ServiceError, address: string): Error {
  const details = err.details || err.message;
  switch (err.code) {
    case grpc.status.UNAVAILABLE:
    case grpc.status.DEADLINE_EXCEEDED:
      return new EngineUnreachableError('The GreenLane server', address, new Error(details), [START_SERVER]);
    case grpc.status.UNAUTHENTICATED:
      return new ConfigError(`The server at ${address} refused the token: ${details}`, ['Pass --token (GREENLANE_API_TOKEN) with one of the server’s GREENLANE_API_TOKENS, or use the dev token of the same data dir (GREENLANE_DATA_DIR).']);
    case grpc.status.INVALID_ARGUMENT:
    case grpc.status.NOT_FOUND:
      return new UsageError(details);
    case grpc.status.FAILED_PRECONDITION:
      return new GreenlaneError(details, 'bug', [], 'UNAVAILABLE');
    case grpc.status.UNIMPLEMENTED:
      return new GreenlaneError(`The server at ${address} is too old for this query (${details})`, 'engine-unreachable', ['Restart `greenlane up` with this version.'], 'UNIMPLEMENTED');
    default:
      return err;
  }
}
