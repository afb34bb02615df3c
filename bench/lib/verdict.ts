import type { ModeResult } from './mode.js';
import type { StepResult } from './step.js';

export const TARGETS = { externalSustained: 15_000, embeddedSustained: 25_000, p50Ms: 50, p99Ms: 250 } as const;

export interface Binding {
  /** The step the diagnosis is read from (the first that was not sustained, else the highest). */
  atOfferedPerSec: number;
  stage: string;
  evidence: string[];
}

/**
 * Reads the diagnosis off one step: where the backlog built up, which wrapped call was busy, how
 * loaded the stack's single thread was, and (with --profile-rate) where its CPU went.
 */
export function bindingStage(step: StepResult): Binding {
  const ev: string[] = [];
  const offered = step.offeredPerSec;
  const { inWindow: w, backlogAtWindowEnd: b, stack: st } = step;
  ev.push(`in-window rates/s: sent ${w.sentPerSec}, accepted ${w.acceptedPerSec}, on bus ${w.publishedPerSec}, durable ${w.persistedPerSec} (offered ${offered})`);
  ev.push(`backlog at window end: ingestion queue ${b.ingestionQueue}, bus→store ${b.busToStore}; drained ${step.drainMs} ms after the window`);
  ev.push(`stack process: CPU ${st.cpuPercent}% of one core, event-loop utilisation ${st.eventLoopUtilization}; busy % fleet upsert ${st.busyPercent.fleetUpsert}, bus publish ${st.busyPercent.busPublish}, store insert ${st.busyPercent.storeInsert}`);
  const wp = step.workerProcess;
  if (wp) ev.push(`worker in its own process: CPU ${wp.cpuPercent}% of one core (store-insert busy % is not measured there)`);
  const loadElu = Math.max(...step.load.processes.map((p) => p.elu));
  if (step.profile) ev.push(`CPU profile of the stack (busy share %): ${JSON.stringify(step.profile.busyShare)}`);
  if (step.loss > 0) ev.push(`LOSS: ${step.loss} accepted events never became rows`);

  let stage: string;
  const cpuBound = st.eventLoopUtilization >= 0.9 || st.cpuPercent >= 90;
  if (w.sentPerSec < 0.95 * offered && step.skippedByBackpressure === 0 && loadElu >= 0.9) {
    stage = 'load generator (simulator process saturated; add --load-procs)';
  } else if (step.skippedByBackpressure > 0 || st.ingestionPauses > 0 || b.ingestionQueue > 0.25 * offered) {
    const inner = st.busyPercent.busPublish >= st.busyPercent.fleetUpsert ? 'bus publish' : 'fleet-state upsert';
    stage = `ingestion flush (${inner}); streams were paused by backpressure`;
    if (cpuBound) stage += ', with the stack thread CPU-bound';
  } else if (b.busToStore > 0.25 * offered || w.persistedPerSec < 0.95 * offered) {
    if (wp) {
      stage = 'worker process (consume, parse/validate, price, write)';
      if ((wp.cpuPercent ?? 0) >= 90) stage += ' — its thread is CPU-bound';
    } else {
      stage = st.busyPercent.storeInsert >= 70 ? 'store insert (database write path)' : 'worker (consume, parse/validate, price) on the shared Node thread';
      if (cpuBound && st.busyPercent.storeInsert < 70) stage += ' — the thread is CPU-bound';
    }
  } else if (cpuBound) {
    stage = wp ? 'ingestion process CPU (ingestion and coordinator share one Node thread)' : 'stack process CPU (ingestion, coordinator and worker share one Node thread)';
  } else {
    stage = 'none observed at this step';
  }
  if (step.loss > 0) stage = `loss (${step.loss}) — ${stage}`;
  return { atOfferedPerSec: offered, stage, evidence: ev };
}

export function diagnose(m: ModeResult): Binding | null {
  if (!m.steps.length) return null;
  const step = m.steps.find((s) => !s.sustained) ?? m.steps[m.steps.length - 1];
  return bindingStage(step);
}

export function verdict(embedded?: ModeResult, external?: ModeResult) {
  const latency = (m?: ModeResult) =>
    m && {
      p50Ms: m.latencyAt5k.p50Ms,
      p99Ms: m.latencyAt5k.p99Ms,
      met: m.latencyAt5k.p50Ms !== null && m.latencyAt5k.p99Ms !== null && m.latencyAt5k.p50Ms <= TARGETS.p50Ms && m.latencyAt5k.p99Ms <= TARGETS.p99Ms,
    };
  const sustained = (m: ModeResult | undefined, target: number) => m && { target, value: m.sustainedEventsPerSec, met: m.sustainedEventsPerSec >= target };
  const v = {
    embeddedSustained: sustained(embedded, TARGETS.embeddedSustained),
    externalSustained: sustained(external, TARGETS.externalSustained),
    latencyAt5k: { embedded: latency(embedded), external: latency(external) },
    binding: { embedded: embedded ? diagnose(embedded) : undefined, external: external ? diagnose(external) : undefined },
  };
  const checks = [v.embeddedSustained?.met, v.externalSustained?.met, v.latencyAt5k.embedded?.met, v.latencyAt5k.external?.met].filter((x) => x !== undefined);
  return { allMet: checks.length > 0 && checks.every(Boolean), ...v };
}
