/**
 * An in-process CPU profile of the stack during one step (--profile), reduced to self time per
 * component, so "which stage binds" is answered by where the one Node thread spends its time.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { stageSamples, type ProfileNode, type Stage } from './stage-cpu.js';
import { round } from './stats.js';

const BUCKETS: [RegExp, string][] = [
  [/node_modules\/@grpc\//, 'grpc-js'],
  [/node_modules\/protobufjs|node_modules\/@protobufjs/, 'protobuf decode/encode'],
  [/node_modules\/kafkajs/, 'kafkajs'],
  [/node_modules\/(pg|pg-protocol|pg-types|pg-pool|pgpass)\//, 'pg driver'],
  [/node_modules\/@electric-sql\/pglite/, 'PGlite (WASM Postgres)'],
  [/node_modules\/ioredis|node_modules\/@ioredis|node_modules\/redis-parser|node_modules\/cluster-key-slot/, 'ioredis'],
  [/node_modules\/zod/, 'zod (worker validation)'],
  [/node_modules\/prom-client/, 'prom-client'],
  [/node_modules\/pino|node_modules\/sonic-boom/, 'pino'],
  [/src\/services\/ingestion|src\/domain\/telemetry|src\/grpc\//, 'ingestion (ours)'],
  [/src\/services\/worker/, 'worker (ours)'],
  [/src\/services\/coordinator|src\/domain\/(booking|policy|geo|energy|session)/, 'coordinator (ours)'],
  [/src\/adapters\/memory/, 'memory adapters (ours)'],
  [/src\/adapters\//, 'engine adapters (ours)'],
  [/src\//, 'other (ours)'],
  [/bench\//, 'bench probe'],
  [/node_modules\//, 'other dependencies'],
];

function bucketOf(node: ProfileNode): string {
  const { url, functionName } = node.callFrame;
  if (functionName === '(idle)') return '(idle)';
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(program)') return 'native/runtime';
  if (url.startsWith('wasm://')) return 'PGlite (WASM Postgres)';
  for (const [re, name] of BUCKETS) if (re.test(url)) return name;
  if (url.startsWith('node:') || url === '') return functionName === 'JSON.parse' || functionName === 'stringify' || functionName === 'parse' ? 'JSON' : 'node core (net, streams, timers, Buffer)';
  return 'other';
}

export interface ProfileSummary {
  sampledMs: number;
  /** Share of busy (non-idle) time per component, percent, biggest first. */
  busyShare: Record<string, number>;
  idlePercent: number;
}

export interface ProfileResult {
  summary: ProfileSummary;
  /** Busy samples per pipeline stage (stage-cpu.ts). */
  stages: Record<Stage, number>;
}

/** Starts sampling the stack's thread every `intervalUs`; the returned function stops and reduces the profile. */
export async function startProfile(intervalUs = 1000): Promise<(saveAs?: string) => Promise<ProfileResult>> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
  await session.post('Profiler.start');
  return async (saveAs) => {
    const { profile } = (await session.post('Profiler.stop')) as { profile: { nodes: ProfileNode[]; startTime: number; endTime: number } };
    session.disconnect();
    // Opens in Chrome DevTools or speedscope, for the functions behind a stage's figure.
    if (saveAs) writeFileSync(saveAs, JSON.stringify(profile));
    const hits = new Map<string, number>();
    let total = 0;
    for (const node of profile.nodes) {
      const n = node.hitCount ?? 0;
      total += n;
      const b = bucketOf(node);
      hits.set(b, (hits.get(b) ?? 0) + n);
    }
    const idle = hits.get('(idle)') ?? 0;
    hits.delete('(idle)');
    const busy = Math.max(1, total - idle);
    const busyShare = Object.fromEntries([...hits].sort((a, b) => b[1] - a[1]).filter(([, n]) => n / busy >= 0.005).map(([k, n]) => [k, round((n / busy) * 100, 1)]));
    const summary = { sampledMs: round((profile.endTime - profile.startTime) / 1000), busyShare, idlePercent: round((idle / Math.max(1, total)) * 100, 1) };
    return { summary, stages: stageSamples(profile.nodes) };
  };
}
