import { averagePriceOver, type PriceFn } from '../../domain/charging.js';

/** One charging session as the car saw it: energy into its pack, priced on the tariff over the session. */
export interface SessionRecord {
  carId: string;
  stationId: string;
  startMs: number;
  endMs: number;
  kwh: number;
  cost: number;
}

/**
 * What the fleet itself observed, identically whoever decided (the coordinator or the greedy
 * habit): each car's wait from its request to its plug-in, the sessions, the cars that reached
 * 0 %, and per step the charging power and which ports were in use.
 */
export class FleetStats {
  /** Every episode's wait, request to plug-in (top-ups included). */
  readonly waitsMs: number[] = [];
  /** The waits of episodes a car began below the request threshold: it needed a charge now (not a top-up). */
  readonly needWaitsMs: number[] = [];
  /** Episodes begun above the request threshold: opportunistic top-ups. */
  topUps = 0;
  readonly sessions: SessionRecord[] = [];
  readonly stranded = new Set<string>();
  readonly charged = new Set<string>();
  decisions = 0;
  deferred = 0;
  /** Per step: kW drawn, whether any car waited for a port, and charging cars per station. */
  samples = 0;
  samplesWhileQueued = 0;
  busyPortSamples = 0;
  busyPortSamplesWhileQueued = 0;
  readonly busyByStation = new Map<string, number>();
  peakKw = 0;
  peakAtMs = 0;
  eveningPeakKw = 0;
  eveningPeakAtMs = 0;
  private readonly askedAt = new Map<string, { at: number; low: boolean }>();

  /** Only what happens from `fromMs` on is measured (a warm-up before it is simulated, not counted). */
  constructor(
    private readonly price: PriceFn,
    private readonly fromMs = -Infinity,
  ) {}

  /**
   * The car asked for a port (its first booking decision of this episode); `low`: below the request
   * threshold then, so it needed the charge now. A deferral is not an ask: a deferred car keeps working,
   * and its wait starts when it asks at its window or at the floor.
   */
  asked(carId: string, at: number, low = true): void {
    if (!this.askedAt.has(carId)) this.askedAt.set(carId, { at, low });
  }

  pluggedIn(carId: string, at: number): void {
    const asked = this.askedAt.get(carId);
    if (asked !== undefined && at >= this.fromMs) this.waited(asked, at);
    this.askedAt.delete(carId);
  }

  private waited(asked: { at: number; low: boolean }, until: number): void {
    this.waitsMs.push(until - asked.at);
    if (asked.low) this.needWaitsMs.push(until - asked.at);
    else this.topUps++;
  }

  /** A session straddling the window's start counts the share of its energy charged inside it (constant power). */
  session(carId: string, stationId: string, startMs: number, endMs: number, kwh: number): void {
    if (endMs <= this.fromMs) return;
    const from = Math.max(startMs, this.fromMs);
    const inside = endMs > startMs ? kwh * ((endMs - from) / (endMs - startMs)) : kwh;
    const cost = inside * averagePriceOver(this.price, from, endMs);
    this.sessions.push({ carId, stationId, startMs: from, endMs, kwh: inside, cost });
    this.charged.add(carId);
  }

  /** One step's snapshot: charging kW, busy ports per station, whether a car waited for a port. */
  sample(atMs: number, kw: number, busy: Map<string, number>, anyQueued: boolean, eveningPeak: boolean): void {
    if (atMs <= this.fromMs) return;
    let ports = 0;
    for (const [id, n] of busy) {
      ports += n;
      this.busyByStation.set(id, (this.busyByStation.get(id) ?? 0) + n);
    }
    this.samples++;
    this.busyPortSamples += ports;
    if (anyQueued) {
      this.samplesWhileQueued++;
      this.busyPortSamplesWhileQueued += ports;
    }
    if (kw > this.peakKw) [this.peakKw, this.peakAtMs] = [kw, atMs];
    if (eveningPeak && kw > this.eveningPeakKw) [this.eveningPeakKw, this.eveningPeakAtMs] = [kw, atMs];
  }

  /** Episodes still open at the end count their wait so far. */
  closeOpenWaits(endMs: number): void {
    for (const asked of this.askedAt.values()) this.waited(asked, endMs);
    this.askedAt.clear();
  }
}
