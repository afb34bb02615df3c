import { describe, expect, it } from 'vitest';
import { DEFAULT_STATIONS_FILE } from '../../src/app/stack.js';
import { runVirtualSim } from '../../src/app/virtual-sim.js';
import { readStationsFile } from '../../src/config/stations-file.js';
import { compareTable } from '../../src/sim/virtual/format.js';
import { dayTargets } from '../../src/sim/virtual/targets.js';

// Issue 10: price-aware deferral paid 43 % less and drew nothing at 18:00 by parking cars — the fleet
// drove 28 % less and the coordinator delivered 74 % of greedy's energy. The day must meet the price
// and peak targets while delivering about as much energy as greedy. A fifth of the fleet on the
// shipped stations with a fifth of their ports (rounded up), so cars per port stay close to the 1,000-car day's.
// And the price must not be paid in waiting: a car that needs a charge now (below 30 %) waited p95 326–520 min
// (top-ups queued by a race, a herd at the deferral window) against greedy's 26–28; it must wait about as
// long as with greedy, request to plug-in (a deferral, while the car works, is not waiting).
describe('the virtual day against greedy', () => {
  it('pays ≥ 20 % less, draws ≥ 30 % less at the 18:00 peak, strands nobody, delivers ≥ 95 % of greedy\'s energy, and a low car waits about as long', async () => {
    const stations = (await readStationsFile(DEFAULT_STATIONS_FILE())).map((s) => ({ ...s, ports: Math.ceil(s.ports / 5) }));
    const r = await runVirtualSim({ scenario: 'day', compare: true, seed: 1, cars: 200, stations, stepSec: 60 });
    if (!r.compare) throw new Error('expected a comparison');
    const t = dayTargets(r.greenlane, r.greedy);
    expect(compareTable(r.greenlane, r.greedy)).toContain('energyRatio');
    expect(t.stranded.met).toBe(true);
    expect(t.avgPriceRatio.value).toBeLessThanOrEqual(0.8);
    expect(t.eveningPeakRatio.value).toBeLessThanOrEqual(0.7);
    expect(t.energyRatio.value).toBeGreaterThanOrEqual(0.95);
    expect(r.greenlane.needWaitP95Min).toBeLessThanOrEqual(1.25 * r.greedy.needWaitP95Min);
  }, 180_000);
});
