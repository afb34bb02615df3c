import { describe, expect, it } from 'vitest';
import type { SimCar } from '../../../src/domain/manhattan.js';
import type { BookingResponseMsg } from '../../../src/grpc/proto.js';
import { attachPacer, decisionLagMs } from '../../../src/sim/pacer.js';
import type { ResponseListener } from '../../../src/sim/simulator.js';
import { SpeedGovernor } from '../../../src/sim/speed-governor.js';

describe('SpeedGovernor', () => {
  it('keeps the target speed while the lag stays under the bound', () => {
    const g = new SpeedGovernor({ targetSpeed: 240, maxLagMs: 60_000 });
    g.observe(30_000);
    g.observe(59_000);
    expect(g.adjust()).toBe(240);
    expect(g.state().slowdowns).toBe(0);
  });

  it('slows in proportion to the lag (at most halving per window), never under the floor', () => {
    const g = new SpeedGovernor({ targetSpeed: 240, maxLagMs: 60_000, minSpeed: 20 });
    g.observe(75_000);
    expect(g.adjust()).toBe(192); // 60/75 = 0.8
    g.observe(600_000);
    expect(g.adjust()).toBe(96); // halved, not divided by 10
    for (let i = 0; i < 5; i++) {
      g.observe(600_000);
      g.adjust();
    }
    expect(g.state()).toMatchObject({ speed: 20, minSpeedSeen: 20, slowdowns: 5 }); // 192, 96, 48, 24, 20; then the floor
  });

  it('climbs back towards the target once the server caught up, and holds without samples', () => {
    const g = new SpeedGovernor({ targetSpeed: 240, maxLagMs: 60_000 });
    g.observe(240_000);
    expect(g.adjust()).toBe(120);
    expect(g.adjust()).toBe(120); // no samples: no evidence either way
    g.observe(40_000); // under the bound but not well under: hold
    expect(g.adjust()).toBe(120);
    g.observe(1_000);
    expect(g.adjust()).toBe(150);
    for (let i = 0; i < 10; i++) {
      g.observe(0);
      g.adjust();
    }
    expect(g.state().speed).toBe(240);
  });
});

describe('pacer', () => {
  it('measures a decision against the simulated clock, one step of slack', () => {
    expect(decisionLagMs({ timestamp: 1_000_000 }, 1_000_000 + 60_000, 60_000)).toBe(0);
    expect(decisionLagMs({ timestamp: 1_000_000 }, 1_000_000 + 200_000, 60_000)).toBe(140_000);
    expect(decisionLagMs({ timestamp: 0 }, 5, 1)).toBeUndefined();
  });

  it('slows the simulator when decisions trail its clock and restores the speed when they catch up', async () => {
    let listener: ResponseListener = () => undefined;
    let speed = 240;
    let now = 10_000_000;
    const sim = {
      onResponse: (l: ResponseListener) => ((listener = l), () => undefined),
      simNowMs: () => now,
      setSpeed: (s: number) => (speed = s),
      speed: () => speed,
    };
    const pacer = attachPacer(sim, { targetSpeed: 240, hz: 4, maxLagMs: 60_000, windowMs: 20 });
    const decide = (lagMs: number) => listener({ carId: 'C' } as unknown as SimCar, { timestamp: now - lagMs } as BookingResponseMsg);
    try {
      decide(60_000 + 5 * 60_000); // five minutes beyond the step
      await new Promise((r) => setTimeout(r, 30));
      expect(speed).toBe(120);
      expect(pacer.state().slowdowns).toBe(1);
      for (let i = 0; i < 10; i++) {
        now += 1000;
        decide(1_000);
        await new Promise((r) => setTimeout(r, 25));
      }
      expect(speed).toBe(240);
    } finally {
      pacer.stop();
    }
  });
});
