import { randomUUID } from 'node:crypto';
import { forecastHoursFor, resolvePolicy, type PackLike, type PolicyParams } from '../../domain/booking-policy.js';
import { DEFAULT_PACK } from '../../domain/battery.js';
import { TOPIC_EVENTS, topicName } from '../../domain/events.js';
import { silentLogger, type Logger } from '../../observability/logger.js';
import type { Subscription } from '../../ports/event-bus.js';
import { BookingFlow } from './booking-flow.js';
import { createClock, type CoordinatorClock } from './clock.js';
import { decisionsFromRecords } from './event-codec.js';
import { HoldRenewal } from './hold-renewal.js';
import { coordinatorMetrics } from './metrics.js';
import { nearestStations } from './nearest.js';
import { Outbox } from './outbox.js';
import { OutboxRelay } from './outbox-relay.js';
import { PriceCache } from './price-cache.js';
import { StateRecovery } from './recovery.js';
import { StaleCars } from './stale-cars.js';
import { StationAvailability } from './station-availability.js';
import { StationStatusCache } from './status-cache.js';
import { Sweeper } from './sweeper.js';
import { TelemetryReactions } from './telemetry-reactions.js';
import type { Coordinator, CoordinatorDeps } from './types.js';

export type { Coordinator, CoordinatorDeps } from './types.js';

/** Booking events the outbox holds at most before new bookings are refused (about an hour of a busy fleet's bookings). */
export const DEFAULT_OUTBOX_MAX = 100_000;

/** The coordinator's parts, wired to each other (see createCoordinator). */
interface Parts {
  logger: Logger;
  policy: PolicyParams;
  clock: CoordinatorClock;
  instanceId: string;
  topic: string;
  status: StationStatusCache;
  outbox: Outbox;
  flow: BookingFlow;
  reactions: TelemetryReactions;
  sweeper: Sweeper;
  relay: OutboxRelay;
  recovery: StateRecovery;
  availability: StationAvailability;
}

/**
 * A fresh coordinator instance id. The app makes one and gives it to both the reservations adapter
 * (`origin`, stored with each outbox entry) and createCoordinator, so events name the deciding instance.
 */
export function newInstanceId(): string {
  return `coord-${randomUUID().slice(0, 8)}`;
}

function wire(deps: CoordinatorDeps): Parts {
  const logger = (deps.logger ?? silentLogger).child({ service: 'coordinator' });
  const policy: PolicyParams = resolvePolicy(deps.policy);
  const pack: PackLike = deps.pack ?? { capacityKwh: DEFAULT_PACK.capacityKwh, whPerKm: DEFAULT_PACK.whPerKm, maxChargeKw: policy.carMaxKw };
  const clock = createClock(deps.clock);
  const now = (): number => clock.now();
  const instanceId = deps.instanceId ?? newInstanceId();
  const topic = topicName(deps.namespace ?? '', TOPIC_EVENTS);
  const metrics = coordinatorMetrics(deps.registry);
  const { reservations, stations } = deps;
  const prices = new PriceCache({ source: deps.prices, now, logger, forecastHours: forecastHoursFor(policy) });
  const status = new StationStatusCache(reservations, now);
  /** Each car's last reported battery: the telemetry reactions keep it, a finished session's energy reads it. */
  const lastBattery = new Map<string, number>();
  const outbox = new Outbox({ reservations, instanceId, logger, metrics, prices, capacityKwh: pack.capacityKwh, lastBattery: (carId) => lastBattery.get(carId), deliver: deps.deliver });
  const relay = new OutboxRelay({ reservations, bus: deps.bus, topic, owner: instanceId, eventFor: (e) => outbox.eventFor(e), onPublished: (e) => outbox.published(e), onDepth: (n) => metrics.outboxDepth.set(n), logger });
  outbox.attachRelay(() => relay.kick());
  const recovery = new StateRecovery({ reservations, fleet: deps.fleet, stations, history: deps.history, outbox, now, metrics, logger, instanceId });
  const flow = new BookingFlow({ reservations, fleet: deps.fleet, stations, policy, pack, now, prices, status, outbox, metrics, logger, instanceId, outboxMax: deps.outboxMax ?? DEFAULT_OUTBOX_MAX });
  const stale = new StaleCars({ reservations, now, staleAfterMs: deps.staleAfterMs ?? 10 * 60_000, staleAfterWallMs: deps.staleAfterWallMs ?? 60_000, logger, wall: deps.wallNow });
  const renewal = new HoldRenewal({ reservations, now, policy, logger });
  const reactions = new TelemetryReactions({
    reservations,
    stations,
    policy,
    now,
    observe: (ms) => clock.observe(ms),
    arrivalKm: (deps.arrivalRadiusM ?? 50) / 1000,
    departKm: (deps.departRadiusM ?? 200) / 1000,
    flow,
    outbox,
    renewal,
    stale,
    logger,
    instanceId,
    lastBattery,
  });
  const sweeper = new Sweeper({ reservations, now, outbox, stale, status, metrics, logger });
  const availability = new StationAvailability({ reservations, stations, flow, fleet: deps.fleet, outbox, status, now, logger });
  return { logger, policy, clock, instanceId, topic, status, outbox, flow, reactions, sweeper, relay, recovery, availability };
}

export function createCoordinator(deps: CoordinatorDeps): Coordinator {
  const p = wire(deps);
  const now = (): number => p.clock.now();
  let subscription: Subscription | undefined;
  let started = false;
  const onBusRecords = (records: { value: string }[]): void => {
    // Any instance's relay may publish this one's transitions: dedup by event id, not by origin.
    for (const d of decisionsFromRecords(records, '')) p.outbox.pushFromBus(d);
  };

  return {
    instanceId: p.instanceId,
    now,
    decisions$: { subscribe: (fn) => p.outbox.subscribe(fn) },
    async start() {
      if (started) return;
      // Lost state (no marker) is rebuilt from the log before the stations load on top of it.
      if (deps.stations.length > 0) await p.recovery.init();
      if (deps.loadStations !== false) await p.outbox.emitTransitions(await deps.reservations.loadStations(deps.stations, now()));
      if (deps.routeViaBus ?? Boolean(deps.deliver)) {
        await deps.bus.ensureTopics([p.topic]);
        subscription = await deps.bus.subscribe({
          topic: p.topic,
          groupId: `${deps.namespace ? deps.namespace + '.' : ''}greenlane-decisions-${p.instanceId}`,
          fromBeginning: false,
          ephemeral: true, // per instance: deleted on stop, not left on the broker

          handleBatch: async (records) => onBusRecords(records),
        });
      }
      p.sweeper.start(deps.sweepIntervalMs ?? 250);
      p.relay.start();
      p.recovery.start(deps.recoveryCheckMs);
      started = true;
      p.logger.info({ instanceId: p.instanceId, stations: deps.stations.length }, 'coordinator started');
    },
    async stop() {
      p.sweeper.stop();
      p.recovery.stop();
      await p.relay.stop();
      await subscription?.stop();
      subscription = undefined;
      started = false;
    },
    ready: () => started,
    onTelemetry: (events) => p.reactions.onTelemetry(events),
    requestBooking: (req) => p.flow.request(req),
    cancelBooking: (req) => p.flow.cancel(req),
    nearest: (lat, lon, opts) => nearestStations({ fleet: deps.fleet, stations: deps.stations, status: p.status, drive: p.policy }, lat, lon, opts),
    sweep: () => p.sweeper.sweep(),
    setStationOnline: (stationId, online) => p.availability.set(stationId, online),
    onBusRecords,
  };
}
