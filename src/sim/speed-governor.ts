/**
 * Keeps simulated time from outrunning the server. Lag samples are simulated ms between the
 * simulator's clock and what the server had processed when it answered (a decision stamped with the
 * server's event time, or a probe's round trip scaled by the speed). Once per window the governor
 * looks at the worst of them: over the bound, the speed drops in proportion (at most halved per
 * window, never under the floor); well under it, the speed climbs back by a step towards the target.
 */
export interface GovernorOptions {
  /** The speed asked for: the governor never goes above it. */
  targetSpeed: number;
  /** Most simulated lag tolerated, ms (default 60 s: holds have a 5 min grace). */
  maxLagMs?: number;
  /** Lowest speed (default 1: real time). */
  minSpeed?: number;
  /** Factor per window when catching up (default 1.25). */
  raiseBy?: number;
}

export interface GovernorState {
  speed: number;
  /** Windows in which the speed was lowered. */
  slowdowns: number;
  /** The worst lag of the last window with samples, simulated ms. */
  lagMs: number;
  minSpeedSeen: number;
}

export class SpeedGovernor {
  private readonly maxLagMs: number;
  private readonly minSpeed: number;
  private readonly raiseBy: number;
  private current: number;
  private samples: number[] = [];
  private slowdowns = 0;
  private lastLagMs = 0;
  private minSpeedSeen: number;

  constructor(private readonly opts: GovernorOptions) {
    this.maxLagMs = opts.maxLagMs ?? 60_000;
    this.minSpeed = Math.min(opts.minSpeed ?? 1, opts.targetSpeed);
    this.raiseBy = opts.raiseBy ?? 1.25;
    this.current = opts.targetSpeed;
    this.minSpeedSeen = opts.targetSpeed;
  }

  observe(lagMs: number): void {
    if (Number.isFinite(lagMs)) this.samples.push(Math.max(0, lagMs));
  }

  /** Ends a window: returns the speed to run at next. A window without samples keeps the speed. */
  adjust(): number {
    if (this.samples.length === 0) return this.current;
    const lag = Math.max(...this.samples);
    this.samples = [];
    this.lastLagMs = lag;
    if (lag > this.maxLagMs) {
      const next = Math.max(this.minSpeed, this.current * Math.max(0.5, Math.min(0.8, this.maxLagMs / lag)));
      if (next < this.current) this.slowdowns++;
      this.current = next;
      this.minSpeedSeen = Math.min(this.minSpeedSeen, next);
    } else if (lag < this.maxLagMs / 2 && this.current < this.opts.targetSpeed) {
      this.current = Math.min(this.opts.targetSpeed, this.current * this.raiseBy);
    }
    return this.current;
  }

  state(): GovernorState {
    return { speed: this.current, slowdowns: this.slowdowns, lagMs: this.lastLagMs, minSpeedSeen: this.minSpeedSeen };
  }
}
