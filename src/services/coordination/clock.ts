/**
 * The reservation clock: what holds, expiry and session times are measured against. Either a plain
 * function (Date.now by default, a fake in tests) or event time, which follows the telemetry's own
 * timestamps so a simulator running --speed 60 gets simulated time without telling the coordinator.
 */
export interface CoordinatorClock {
  now(): number;
  /** Feeds an event's timestamp: an event-time clock advances its watermark; a plain clock ignores it. */
  observe(eventMs: number): void;
}

export type ClockOption = (() => number) | 'event-time';

/**
 * Event time as a watermark that also advances with the wall clock: the latest event time seen plus
 * the wall time elapsed since, never behind the wall clock itself.
 */
export class EventTimeClock implements CoordinatorClock {
  private eventMs = 0;
  private wallMs = 0;

  constructor(private readonly wall: () => number = () => Date.now()) {}

  observe(eventMs: number): void {
    if (eventMs <= this.eventMs) return;
    this.eventMs = eventMs;
    this.wallMs = this.wall();
  }

  now(): number {
    const wall = this.wall();
    return Math.max(wall, this.eventMs + (wall - this.wallMs));
  }
}

export function createClock(option?: ClockOption): CoordinatorClock {
  if (option === 'event-time') return new EventTimeClock();
  const now = option ?? Date.now;
  return { now: () => now(), observe: () => undefined };
}
