import type { Config } from '../config/schema.js';
import { TOPIC_DLQ, TOPIC_EVENTS, topicName } from '../domain/events.js';
import { GreenlaneError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { engineProbes, openEventBus, type ProbeResult } from './engines.js';

/** How long `greenlane up` waits for its engines by default (`--engine-wait`, GREENLANE_ENGINE_WAIT_SEC). */
export const DEFAULT_ENGINE_WAIT_SEC = 30;

const ENGINE_LABEL = { kafka: 'Kafka', redis: 'Redis', postgres: 'PostgreSQL' } as const;
type Engine = keyof typeof ENGINE_LABEL;

export interface WaitForEnginesOptions {
  /** Total time to wait for every configured engine to answer (ms). */
  waitMs: number;
  /** One probe's timeout (ms); default 3 s, never more than waitMs. */
  probeTimeoutMs?: number;
  /** Told once per engine that does not answer yet, while waiting. */
  say?(message: string): void;
  /** Replaces the engine probes (tests). */
  probes?: Partial<Record<Engine, () => Promise<ProbeResult>>>;
}

/**
 * Waits (bounded) until every configured engine answers its doctor probe; throws an
 * engine-unreachable error (exit 4) naming each engine still down when the wait is over.
 */
export async function waitForEngines(config: Config, opts: WaitForEnginesOptions): Promise<void> {
  const probeTimeoutMs = Math.max(250, Math.min(opts.probeTimeoutMs ?? 3_000, opts.waitMs || 3_000));
  const probes = Object.entries(opts.probes ?? engineProbes(config, probeTimeoutMs)) as [Engine, () => Promise<ProbeResult>][];
  const deadline = Date.now() + opts.waitMs;
  const told = new Set<Engine>();
  for (;;) {
    const results = await Promise.all(probes.map(async ([engine, probe]) => ({ engine, result: await probe().catch((err: Error) => ({ ok: false, detail: err.message, latencyMs: 0 })) })));
    const down = results.filter((r) => !r.result.ok);
    if (down.length === 0) return;
    if (Date.now() >= deadline) throw unreachable(down, opts.waitMs);
    for (const { engine, result } of down) {
      if (told.has(engine)) continue;
      told.add(engine);
      opts.say?.(`Waiting up to ${Math.round(opts.waitMs / 1000)} s for ${ENGINE_LABEL[engine]} (${result.detail})…`);
    }
    await new Promise((r) => setTimeout(r, Math.min(1_000, Math.max(0, deadline - Date.now()))));
  }
}

function unreachable(down: { engine: Engine; result: ProbeResult }[], waitMs: number): GreenlaneError {
  const names = down.map((d) => ENGINE_LABEL[d.engine]);
  const details = down.map((d) => `${ENGINE_LABEL[d.engine]}: ${d.result.detail}`).join('; ');
  return new GreenlaneError(
    `${names.join(' and ')} ${names.length === 1 ? 'is' : 'are'} unreachable after waiting ${Math.round(waitMs / 1000)} s — ${details}`,
    'engine-unreachable',
    [
      'Start the engines with `greenlane infra up` (Docker) or `scripts/engines.sh start all`, then run `greenlane up` again.',
      'Wait longer with --engine-wait <seconds> (GREENLANE_ENGINE_WAIT_SEC); `greenlane doctor` checks each engine.',
    ],
    'ENGINE_UNREACHABLE',
  );
}

/** Creates the namespace's fleet-events topics (and waits for their leaders) before any service subscribes. */
export async function ensureEventTopics(config: Config, logger: Logger): Promise<void> {
  const bus = await openEventBus(config, { logger, clientId: 'greenlane-up' });
  try {
    await bus.ensureTopics([topicName(config.namespace, TOPIC_EVENTS), topicName(config.namespace, TOPIC_DLQ)]);
  } finally {
    await bus.close();
  }
}
