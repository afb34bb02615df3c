import { createLocalPriceSource } from '../adapters/grid/http-price-source.js';
import { createMemoryReservations } from '../adapters/memory/memory-reservations.js';
import type { PolicyOverrides } from '../domain/booking-policy.js';
import type { Station } from '../domain/charging.js';
import { rawPriceAt } from '../domain/pricing.js';
import { readStationsFile } from '../config/stations-file.js';
import { silentLogger, type Logger } from '../observability/logger.js';
import type { Reservations } from '../ports/reservations.js';
import { createCoordinator } from '../services/coordination/index.js';
import { runVirtual } from '../sim/virtual/engine.js';
import { createGreedyStrategy } from '../sim/virtual/greedy.js';
import type { VirtualKpis } from '../sim/virtual/kpis.js';
import { scenarioSpec, type ScenarioName } from '../sim/virtual/scenarios.js';
import type { ChargingStrategy, PolicyName, StrategyContext, StrategyFactory } from '../sim/virtual/types.js';
import { DEFAULT_STATIONS_FILE } from './stack.js';

/**
 * The composition root of the virtual-time simulation (`greenlane sim --clock virtual`): the same
 * coordinator as production (createCoordinator) on a memory or Redis (the same Lua scripts)
 * Reservations adapter, driven by the virtual clock of src/sim/virtual/engine.ts, or the greedy
 * baseline in its place. The tariff is the grid curve of src/domain/pricing.ts, in UTC.
 */
export interface VirtualSimOptions {
  scenario: ScenarioName;
  policy?: PolicyName;
  /** Run greenlane and greedy on the same seed. */
  compare?: boolean;
  seed: number;
  cars?: number;
  hours?: number;
  stepSec?: number;
  stations?: Station[];
  stationsFile?: string;
  /** Run the reservations on this Redis (a fresh namespace, removed afterwards). */
  redisUrl?: string;
  logger?: Logger;
  /** Policy overrides for the coordinator (defaults: src/domain/booking-policy.ts defaultPolicy), e.g. to chart a tradeoff. */
  policyParams?: PolicyOverrides;
}

export type VirtualSimResult = { compare: false; kpis: VirtualKpis } | { compare: true; greenlane: VirtualKpis; greedy: VirtualKpis };

export const virtualPrice = (atMs: number): number => rawPriceAt(atMs, undefined, 'UTC');

export async function runVirtualSim(o: VirtualSimOptions): Promise<VirtualSimResult> {
  const stations = o.stations ?? (await readStationsFile(o.stationsFile ?? DEFAULT_STATIONS_FILE()));
  const one = async (policy: PolicyName): Promise<VirtualKpis> => {
    const spec = scenarioSpec(o.scenario, { cars: o.cars, hours: o.hours, stepSec: o.stepSec });
    const strategy: StrategyFactory = policy === 'greedy' ? async (ctx) => createGreedyStrategy(ctx) : (ctx) => greenlaneStrategy(ctx, o);
    return (await runVirtual({ spec, stations, seed: o.seed, strategy, price: virtualPrice })).kpis;
  };
  if (o.compare) return { compare: true, greenlane: await one('greenlane'), greedy: await one('greedy') };
  return { compare: false, kpis: await one(o.policy ?? 'greenlane') };
}

let runs = 0;

/** The production coordinator on the virtual clock: no sweep timer (the engine sweeps each step), no wall clock. */
export async function greenlaneStrategy(ctx: StrategyContext, o: Pick<VirtualSimOptions, 'redisUrl' | 'logger' | 'policyParams'> = {}): Promise<ChargingStrategy> {
  const logger = o.logger ?? silentLogger;
  const namespace = o.redisUrl ? `vsim-${process.pid}-${++runs}` : undefined;
  const instanceId = 'virtual';
  const reservations: Reservations = o.redisUrl
    ? await (await import('../adapters/redis/redis-reservations.js')).createRedisReservations({ url: o.redisUrl, namespace, logger, origin: instanceId })
    : createMemoryReservations({ origin: instanceId });
  const coordinator = createCoordinator({
    reservations,
    bus: ctx.bus,
    prices: createLocalPriceSource(undefined, 'UTC'),
    stations: ctx.stations,
    clock: ctx.now,
    wallNow: ctx.now,
    sweepIntervalMs: 0,
    deliver: ctx.deliver,
    routeViaBus: false,
    instanceId,
    logger,
    policy: o.policyParams,
  });
  return {
    policy: 'greenlane',
    start: () => coordinator.start(),
    telemetry: (events) => coordinator.onTelemetry(events),
    async tick() {
      await coordinator.sweep();
    },
    async stop() {
      await coordinator.stop();
      if (namespace && o.redisUrl) await (await import('../adapters/redis/cleanup.js')).dropRedisNamespace(o.redisUrl, namespace);
      await reservations.close();
    },
  };
}
