import { CarPlans, type DriverCounts, type FleetNow, type SimDriverOptions } from './driver-plans.js';
import type { Simulator } from './simulator.js';

export type { DriverCounts, FleetNow, SimDriverOptions } from './driver-plans.js';

export interface SimDriver {
  /** Decisions obeyed so far. */
  counts(): DriverCounts;
  /** What the fleet is doing right now. */
  now(): FleetNow;
  /** Cars that reached 0 %. */
  readonly stranded: ReadonlySet<string>;
  /** Cars that completed at least one session. */
  readonly charged: ReadonlySet<string>;
  detach(): void;
}

export function attachSimDriver(sim: Pick<Simulator, 'onResponse' | 'onTick' | 'car' | 'cars'>, opts: SimDriverOptions): SimDriver {
  const plans = new CarPlans(opts, (id) => sim.car(id));
  const offResponse = sim.onResponse((car, res) => plans.onResponse(car, res));
  const offTick = sim.onTick((simNowMs, dtSec) => {
    plans.charge(simNowMs, dtSec);
    for (const car of sim.cars()) plans.checkStranded(car);
  });
  const summaryTimer = opts.summaryEveryMs ? setInterval(() => plans.summarize(), opts.summaryEveryMs) : undefined;
  summaryTimer?.unref();
  return {
    counts: () => ({ ...plans.counts }),
    now: () => plans.now(),
    stranded: plans.stranded,
    charged: plans.charged,
    detach() {
      offResponse();
      offTick();
      if (summaryTimer) clearInterval(summaryTimer);
    },
  };
}
