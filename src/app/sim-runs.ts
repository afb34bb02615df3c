import type { LoadedConfig } from '../config/load.js';
import { clientToken } from '../config/token.js';
import { priceFnFromPoints } from '../domain/charging.js';
import { readStationsFile } from '../config/stations-file.js';
import type { Station } from '../ports/fleet-state.js';
import { EngineUnreachableError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { attachSimDriver, type SimDriver } from '../sim/driver.js';
import { runHerdScenario, type HerdProgress, type HerdResult } from '../sim/herd-scenario.js';
import { createSimulator, type Simulator } from '../sim/simulator.js';
import { tlsFromConfig } from '../grpc/tls.js';
import { openPriceSource } from './engines.js';
import { herdError } from './herd-errors.js';
import { DEFAULT_STATIONS_FILE } from './stack.js';

export interface FleetRunOptions {
  logger: Logger;
  token?: string;
  cars: number;
  seed: number;
  hz: number;
  speed: number;
  batch: boolean;
  initialBattery: [number, number];
  /** The stations file the server loaded (default: the configured one, else the Manhattan set). */
  stationsFile?: string;
}

/** The stations the server loaded, for cars driving to booked stations. */
export function simStations(loaded: LoadedConfig, file?: string): Promise<Station[]> {
  return readStationsFile(file ?? loaded.config.stationsFile ?? DEFAULT_STATIONS_FILE());
}

/**
 * Starts a simulated fleet streaming to the configured server; with `react`, the cars obey booking
 * decisions. A server that never answers is an EngineUnreachableError.
 */
export async function startFleetSim(
  loaded: LoadedConfig,
  opts: FleetRunOptions & { durationSec?: number; firstCar: number; react: boolean; signal: AbortSignal },
): Promise<{ sim: Simulator; driver?: SimDriver }> {
  const { config } = loaded;
  const { logger } = opts;
  const sim = createSimulator({
    cars: opts.cars,
    seed: opts.seed,
    hz: opts.hz,
    durationSec: opts.durationSec,
    speed: opts.speed,
    batch: opts.batch,
    server: config.server,
    token: clientToken(opts.token, config.dataDir),
    tls: tlsFromConfig(config),
    logger,
    initialBattery: opts.initialBattery,
    firstCar: opts.firstCar,
  });
  const driver = opts.react ? attachSimDriver(sim, { stations: await simStations(loaded, opts.stationsFile), logger }) : undefined;
  try {
    await sim.start(opts.signal);
  } catch (err) {
    throw new EngineUnreachableError('The ingestion server', config.server, err, [
      'Start it with `greenlane up` (embedded) or `greenlane ingestion`, or point --server / GREENLANE_SERVER at it.',
    ]);
  }
  return { sim, driver };
}

/** Runs the herd scenario against the configured server, priced like the server prices (grid or local curve). */
export async function runHerd(
  loaded: LoadedConfig,
  stations: Station[],
  opts: FleetRunOptions & { limitHours: number; signal: AbortSignal; onProgress(p: HerdProgress): void },
): Promise<HerdResult> {
  const { config, mode } = loaded;
  const prices = await openPriceSource(mode, config, { logger: opts.logger });
  try {
    return await runHerdScenario({
      server: config.server,
      token: clientToken(opts.token, config.dataDir),
      tls: tlsFromConfig(config),
      cars: opts.cars,
      seed: opts.seed,
      speed: opts.speed,
      hz: opts.hz,
      batch: opts.batch,
      initialBattery: opts.initialBattery,
      limitHours: opts.limitHours,
      stations,
      logger: opts.logger,
      signal: opts.signal,
      priceOver: async (from, to) => priceFnFromPoints(await prices.forecast(from, Math.max(1, Math.ceil((to - from) / 3_600_000)), 5)),
      onProgress: opts.onProgress,
    });
  } catch (err) {
    throw herdError(err, config.server);
  } finally {
    prices.close();
  }
}
