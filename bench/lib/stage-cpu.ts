/**
 * CPU per event by pipeline stage, from a CPU profile of the stack's thread: each sample is given
 * to the stage of the innermost frame (leaf first, walking up) that belongs to a stage, so a
 * library doing work for one of our modules (protobufjs for gRPC, pg-protocol for the store,
 * JSON.stringify inside the batch writer) counts for that module's stage, and a resumed async
 * function counts for its own stage. Frames that do not name a stage (our domain rules, timers,
 * prom-client, the bench's probe) defer to their callers. The stage shares of the busy samples are
 * then applied to the process CPU time of the step (process.cpuUsage), so byStage adds up to total.
 */

export const STAGES = [
  'grpcDecodeValidate',
  'coordinatorReaction',
  'fleetUpsert',
  'busPublish',
  'busConsume',
  'workerParsePrice',
  'storeWrite',
  'redisClient',
  'kafkaClient',
  'nodeIo',
  'gc',
  'other',
] as const;
export type Stage = (typeof STAGES)[number];

export interface ProfileNode {
  id: number;
  callFrame: { url: string; functionName: string };
  hitCount?: number;
  children?: number[];
}

type Rule = [RegExp, Stage | ((fn: string) => Stage)];

const RULES: Rule[] = [
  // Fleet state: the batch writer's newest-per-car reduction, the adapters.
  [/src\/services\/ingestion\/batch-writer\.ts$/, (fn) => (fn === 'latestPerCar' ? 'fleetUpsert' : 'busPublish')],
  [/src\/adapters\/(redis\/redis-fleet-state|memory\/memory-fleet-state)\.ts$/, 'fleetUpsert'],
  // The bus: publish side and consume side of both adapters and kafkajs.
  [/src\/adapters\/memory\/memory-event-bus\.ts$/, (fn) => (/publish|append|hashKey|enforceRetention/.test(fn) ? 'busPublish' : 'busConsume')],
  [/src\/adapters\/kafka\/kafka-event-bus\.ts$/, (fn) => (/publish/.test(fn) ? 'busPublish' : 'busConsume')],
  [/node_modules\/kafkajs\/src\/(producer|protocol\/requests\/produce)\//, 'busPublish'],
  [/node_modules\/kafkajs\/src\/(consumer|protocol\/requests\/fetch)\//, 'busConsume'],
  [/node_modules\/kafkajs\/src\/protocol\/recordBatch\//, (fn) => (/decode/i.test(fn) ? 'busConsume' : 'busPublish')],
  [/node_modules\/kafkajs\//, 'kafkaClient'],
  // The coordinator and the reservations it calls.
  [/src\/services\/coordination\//, 'coordinatorReaction'],
  [/src\/adapters\/(memory\/memory-reservations|redis\/redis-reservations)\.ts$/, 'coordinatorReaction'],
  // The worker and the store.
  [/src\/services\/worker/, 'workerParsePrice'],
  [/src\/adapters\/(postgres|pglite)\//, 'storeWrite'],
  [/node_modules\/(pg|pg-protocol|pg-types|pg-pool|pg-copy-streams|pgpass|postgres-array|postgres-date)\//, 'storeWrite'],
  [/node_modules\/@electric-sql\/pglite\//, 'storeWrite'],
  [/^wasm:\/\//, 'storeWrite'],
  // Ingestion: gRPC transport, protobuf decode, validation and batching.
  [/node_modules\/(@grpc\/|protobufjs|@protobufjs)/, 'grpcDecodeValidate'],
  [/src\/grpc\//, 'grpcDecodeValidate'],
  [/src\/services\/ingestion\//, 'grpcDecodeValidate'],
  [/^node:internal\/http2\//, 'grpcDecodeValidate'],
  [/node_modules\/(ioredis|@ioredis|redis-parser|cluster-key-slot|denque)\//, 'redisClient'],
];

function ownStage(node: ProfileNode): Stage | undefined {
  const { url, functionName } = node.callFrame;
  for (const [re, stage] of RULES) if (re.test(url)) return typeof stage === 'function' ? stage(functionName) : stage;
  return undefined;
}

function fallbackStage(node: ProfileNode): Stage {
  const { url, functionName } = node.callFrame;
  if (functionName === '(garbage collector)') return 'gc';
  if (/^node:(net|stream|internal\/(stream|net|streams))/.test(url)) return 'nodeIo';
  return 'other';
}

/** Busy sample counts per stage (idle samples left out). */
export function stageSamples(nodes: ProfileNode[]): Record<Stage, number> {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const memo = new Map<number, Stage | null>();
  const stageOf = (id: number): Stage | null => {
    const known = memo.get(id);
    if (known !== undefined) return known;
    const node = byId.get(id)!;
    const p = parent.get(id);
    const s = ownStage(node) ?? (p === undefined ? null : stageOf(p));
    memo.set(id, s);
    return s;
  };
  const out = Object.fromEntries(STAGES.map((s) => [s, 0])) as Record<Stage, number>;
  for (const n of nodes) {
    const hits = n.hitCount ?? 0;
    if (!hits || n.callFrame.functionName === '(idle)') continue;
    out[stageOf(n.id) ?? fallbackStage(n)] += hits;
  }
  return out;
}

export interface CpuPerEvent {
  /** Process CPU (user + system) from the step's start until its events were durable, ÷ accepted events, µs. */
  total: number;
  /** total split by the share of the stack thread's busy profile samples in each stage, µs. */
  byStage: Record<Stage, number>;
  /** Events per core-second for each stage (1e6 ÷ µs), null for stages under 0.05 µs. */
  eventsPerCoreSecByStage: Record<Stage, number | null>;
  samples: number;
}

export function cpuPerEvent(cpuUs: number, events: number, samples: Record<Stage, number>): CpuPerEvent {
  const busy = Object.values(samples).reduce((a, b) => a + b, 0);
  const total = events > 0 ? cpuUs / events : 0;
  const r2 = (n: number) => Math.round(n * 100) / 100;
  const byStage = Object.fromEntries(STAGES.map((s) => [s, r2(busy ? (total * samples[s]) / busy : 0)])) as Record<Stage, number>;
  const perSec = Object.fromEntries(STAGES.map((s) => [s, byStage[s] >= 0.05 ? Math.round(1e6 / byStage[s]) : null])) as Record<Stage, number | null>;
  return { total: r2(total), byStage, eventsPerCoreSecByStage: perSec, samples: busy };
}
