import type { Decision } from '../../domain/booking-request.js';
import type { Station } from '../../domain/charging.js';
import type { TelemetryEvent } from '../../domain/events.js';
import type { EventBus } from '../../ports/event-bus.js';

export type PolicyName = 'greenlane' | 'greedy';

/**
 * Who decides where and when the cars charge: the coordinator (greenlane) or the fleet's own naive
 * habit (greedy, src/sim/virtual/greedy.ts). Both read the same telemetry, answer with the same
 * Decisions and write booking events of the same shape to the bus, so the same KPI code judges both.
 */
export interface ChargingStrategy {
  readonly policy: PolicyName;
  start(): Promise<void>;
  /** The cars' latest telemetry (at the virtual clock's now). */
  telemetry(events: TelemetryEvent[]): Promise<void>;
  /** Once per step: housekeeping such as the coordinator's expiry sweep. */
  tick(): Promise<void>;
  stop(): Promise<void>;
}

/** What the engine gives a strategy: its clock, where decisions go, the bus that records events. */
export interface StrategyContext {
  now: () => number;
  deliver: (carId: string, decision: Decision) => void;
  bus: EventBus;
  stations: Station[];
}

export type StrategyFactory = (ctx: StrategyContext) => Promise<ChargingStrategy>;
