import type { LoadedConfig } from '../config/load.js';
import { clientToken } from '../config/token.js';
import { ConfigError, UsageError } from '../errors.js';
import { createFleetClient } from '../grpc/client.js';
import { tlsFromConfig } from '../grpc/tls.js';
import type { Logger } from '../observability/logger.js';
import { createGridPriceFeed } from './grid-price-feed.js';
import { createOperatorDesk } from './tail-desk.js';
import { createKafkaSource } from '../tui/sources/kafka-source.js';
import { createLiveStationCatalog, serverStationQueries } from '../tui/sources/live-stations.js';
import { createServerSource } from '../tui/sources/server-source.js';
import { createStationsFileCatalog, defaultStationsFile } from '../tui/sources/stations-file.js';
import { createSyntheticSource } from '../tui/sources/synthetic-source.js';
import type { EventSource, StationCatalog, TailSources } from '../tui/sources/types.js';
import { openEventBus } from './engines.js';

export type TailSourceKind = 'kafka' | 'server' | 'synthetic';

export interface TailSourceOptions {
  logger: Logger;
  /** --source; default: kafka in external mode, server in embedded mode or when --server is given. */
  source?: TailSourceKind;
  token?: string;
  fromBeginning: boolean;
  /** Synthetic source: events per second and cars. */
  rate: number;
  cars: number;
}

/** What `greenlane tail` watches: the event stream, the stations (live where possible) and the grid prices. */
export async function openTailSources(loaded: LoadedConfig, opts: TailSourceOptions): Promise<TailSources> {
  const { config, mode } = loaded;
  const { logger } = opts;
  const file = createStationsFileCatalog(config.stationsFile ?? defaultStationsFile());
  // An explicit --server means "watch that server", whatever engines the environment configures.
  const kind = opts.source ?? (mode === 'external' && loaded.sources.server !== 'flag' ? 'kafka' : 'server');
  const openClient = () => createFleetClient(config.server, clientToken(opts.token, config.dataDir), { tls: tlsFromConfig(config) });
  let stations: StationCatalog = file;
  if (kind === 'server') {
    const queries = serverStationQueries(config.server, openClient);
    stations = createLiveStationCatalog({ file, label: queries.source, open: async () => queries });
  } else if (kind === 'kafka') {
    const { openFleetQueries } = await import('./operator-queries.js');
    // No Redis configured cannot heal by asking again; an unreachable one can.
    stations = createLiveStationCatalog({ file, label: 'redis', open: () => openFleetQueries(loaded, { logger, token: opts.token, need: ['redis'] }), isPermanent: (err) => err instanceof ConfigError });
  }

  let events: EventSource;
  if (kind === 'kafka') {
    if (!config.kafkaBrokers?.length) throw new UsageError('--source kafka needs Kafka brokers: set GREENLANE_KAFKA_BROKERS or --kafka-brokers.');
    events = createKafkaSource({
      namespace: config.namespace,
      fromBeginning: opts.fromBeginning,
      brokersLabel: config.kafkaBrokers.join(','),
      connectBus: () => openEventBus(config, { logger, clientId: 'greenlane-tail' }),
    });
  } else if (kind === 'server') {
    events = createServerSource({ address: config.server, openClient });
  } else {
    events = createSyntheticSource({ rate: opts.rate, cars: opts.cars, stations: await file.list().catch(() => []) });
  }
  // The drill-down and the operator actions need the server's RPCs; with Kafka only when --server names one.
  const desk = kind === 'server' || loaded.sources.server === 'flag' ? createOperatorDesk(config.server, openClient) : undefined;
  return { events, stations, desk, prices: createGridPriceFeed(config.gridUrl, { token: config.gridToken }) };
}
