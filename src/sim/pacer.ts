import type { BookingResponseMsg } from '../grpc/proto.js';
import { SpeedGovernor, type GovernorState } from './speed-governor.js';
import type { Simulator } from './simulator.js';

export interface PacerOptions {
  /** The speed asked for (simulated seconds per wall second). */
  targetSpeed: number;
  /** Updates per car per wall second: a decision can trail the clock by one step without any lag. */
  hz: number;
  /** Most simulated lag tolerated, ms (SpeedGovernor's default when unset). */
  maxLagMs?: number;
  /** Wall ms per adjustment window (default 1 s). */
  windowMs?: number;
  /** A cheap round trip to the server (the Stats RPC): its wall time × speed is a lag sample even when no decision flows. */
  probe?: () => Promise<unknown>;
}

export interface Pacer {
  state(): GovernorState;
  stop(): void;
}

type PacedSim = Pick<Simulator, 'onResponse' | 'simNowMs' | 'setSpeed' | 'speed'>;

/** Lag of one decision: how far the simulated clock is past the server's clock when the decision was made, beyond one step. */
export function decisionLagMs(res: Pick<BookingResponseMsg, 'timestamp'>, simNowMs: number, stepMs: number): number | undefined {
  const decidedAt = Number(res.timestamp ?? 0);
  if (!decidedAt) return undefined;
  return Math.max(0, simNowMs - decidedAt - stepMs);
}

/**
 * Slows the simulated clock while the server falls behind it and speeds it back up once the server
 * catches up: lag comes from the decisions on the cars' streams (stamped with the server's event
 * time) and from a periodic probe's round trip.
 */
export function attachPacer(sim: PacedSim, opts: PacerOptions): Pacer {
  const governor = new SpeedGovernor({ targetSpeed: opts.targetSpeed, maxLagMs: opts.maxLagMs });
  const stepMs = () => (sim.speed() / opts.hz) * 1000;
  const off = sim.onResponse((_car, res) => {
    const lag = decisionLagMs(res, sim.simNowMs(), stepMs());
    if (lag !== undefined) governor.observe(lag);
  });
  let probeStarted: number | undefined;
  const probe = () => {
    if (!opts.probe) return;
    if (probeStarted !== undefined) {
      governor.observe((Date.now() - probeStarted) * sim.speed()); // still unanswered: at least this far behind
      return;
    }
    const started = (probeStarted = Date.now());
    opts.probe().then(
      () => governor.observe((Date.now() - started) * sim.speed()),
      () => undefined,
    ).finally(() => (probeStarted = undefined));
  };
  const timer = setInterval(() => {
    probe();
    sim.setSpeed(governor.adjust());
  }, opts.windowMs ?? 1_000);
  timer.unref();
  return {
    state: () => governor.state(),
    stop() {
      clearInterval(timer);
      off();
    },
  };
}
