import type { Logger } from '../../observability/logger.js';
import type { Reservations } from '../../ports/reservations.js';
import { setStationGauges, type CoordinatorMetrics } from './metrics.js';
import type { Outbox } from './outbox.js';
import type { StaleCars } from './stale-cars.js';
import type { StationStatusCache } from './status-cache.js';

export interface SweeperDeps {
  reservations: Pick<Reservations, 'expireDue'>;
  now: () => number;
  outbox: Pick<Outbox, 'emitTransitions'>;
  stale: Pick<StaleCars, 'expire'>;
  status: Pick<StationStatusCache, 'get' | 'invalidate'>;
  metrics: CoordinatorMetrics;
  logger: Pick<Logger, 'error'>;
}

/** The periodic sweep: expires due holds, ends stale cars' bookings, refreshes the station gauges. */
export class Sweeper {
  private sweeping = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: SweeperDeps) {}

  /** One sweep now (none while one runs); returns how many holds expired. Failures are logged. */
  async sweep(): Promise<number> {
    if (this.sweeping) return 0;
    this.sweeping = true;
    try {
      const res = await this.o.reservations.expireDue(this.o.now(), 500);
      await this.o.outbox.emitTransitions(res.transitions);
      const stale = await this.o.stale.expire(500);
      await this.o.outbox.emitTransitions(stale.transitions);
      if (res.transitions.length + stale.transitions.length > 0) this.o.status.invalidate();
      setStationGauges(this.o.metrics, (await this.o.status.get(1_000)).values());
      return res.expired.length;
    } catch (err) {
      this.o.logger.error({ err }, 'expiry sweep failed');
      return 0;
    } finally {
      this.sweeping = false;
    }
  }

  /** Sweeps every intervalMs (0: never) without keeping the process alive. */
  start(intervalMs: number): void {
    if (intervalMs <= 0) return;
    this.timer = setInterval(() => void this.sweep(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
