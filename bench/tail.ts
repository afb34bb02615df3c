/**
 * Benchmark (not a test): feeds `greenlane tail` at a fixed rate and prints JSON with CPU % and
 * RSS (start/end/max). Phases: the store alone, then the whole TUI (store + Ink rendering into
 * a fake 160×50 terminal) fed by the synthetic source, the same path `tail --source synthetic` uses.
 *
 *   node --import tsx bench/tail.ts [--rate 10000] [--seconds 10] [--cars 1000] [--tui-only] [--out file.json]
 *   (add --expose-gc for heap-after-GC figures; NODE_ENV=production to use React's production build)
 * The JSON records the date and the machine's load average before and after: CPU % is this
 * process's own CPU time, but a loaded machine still inflates it (shared caches, frequency).
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { PassThrough, Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { runTail } from '../src/tui/run-tail.js';
import { createStationsFileCatalog, defaultStationsFile } from '../src/tui/sources/stations-file.js';
import { createSyntheticSource } from '../src/tui/sources/synthetic-source.js';
import { createFleetStore } from '../src/tui/store/fleet-store.js';

const { values } = parseArgs({ options: { rate: { type: 'string', default: '10000' }, seconds: { type: 'string', default: '10' }, cars: { type: 'string', default: '1000' }, 'tui-only': { type: 'boolean', default: false }, out: { type: 'string' } } });
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const cars = Number(values.cars);
const mb = (n: number) => Math.round((n / 1024 / 1024) * 10) / 10;

/** Samples CPU and RSS every 250 ms while `run` executes. */
async function measure<T>(run: () => Promise<T>) {
  const rss: number[] = [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const start = process.memoryUsage().rss;
  const timeline: { s: number; rssMb: number; heapTotalMb: number; heapUsedMb: number; externalMb: number }[] = [];
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    rss.push(m.rss);
    // Every 5 s a row of the breakdown: RSS that grows while heapTotal is flat is native memory.
    if (rss.length % 20 === 0) timeline.push({ s: rss.length / 4, rssMb: mb(m.rss), heapTotalMb: mb(m.heapTotal), heapUsedMb: mb(m.heapUsed), externalMb: mb(m.external) });
  }, 250);
  const result = await run();
  clearInterval(sampler);
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const end = process.memoryUsage().rss;
  return {
    result,
    wallSec: Math.round(wallMs) / 1000,
    cpuPercent: Math.round(((cpu.user + cpu.system) / 1000 / wallMs) * 1000) / 10,
    rssMb: { start: mb(start), end: mb(end), max: mb(Math.max(start, end, ...rss)) },
    // The second half alone shows whether memory keeps growing once buffers are full.
    rssGrowthSecondHalfMb: mb(end - (rss[Math.floor(rss.length / 2)] ?? start)),
    // End-minus-middle depends on where the GC cycle happens to be (RSS swings ±20 MB with it);
    // the least-squares trend over the second half, times its length, is the growth a leak shows.
    rssTrendSecondHalfMb: mb(trend(rss.slice(Math.floor(rss.length / 2))) * Math.floor(rss.length / 2)),
    heapUsedMbAfterGc: heapAfterGc(),
    timeline,
  };
}

/** Least-squares slope of evenly spaced samples, per sample. */
function trend(ys: number[]): number {
  const n = ys.length;
  if (n < 2) return 0;
  const mx = (n - 1) / 2;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  ys.forEach((y, x) => ((num += (x - mx) * (y - my)), (den += (x - mx) ** 2)));
  return num / den;
}

function heapAfterGc(): number | undefined {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return undefined;
  gc();
  return mb(process.memoryUsage().heapUsed);
}

/** A terminal that throws output away but has a size, so Ink lays out a real dashboard. */
function fakeTerminal(): NodeJS.WriteStream {
  let bytes = 0;
  const w = new Writable({ write: (chunk, _enc, cb) => ((bytes += chunk.length), cb()) }) as unknown as NodeJS.WriteStream & { bytes: () => number };
  Object.assign(w, { isTTY: true, columns: 160, rows: 50, bytes: () => bytes });
  return w;
}

/** A keyboard nobody types on (Ink needs raw mode for its key handling). */
function fakeKeyboard(): NodeJS.ReadStream {
  return Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => {}, ref: () => {}, unref: () => {} }) as unknown as NodeJS.ReadStream;
}

async function storeOnly() {
  const store = createFleetStore();
  let flushes = 0;
  const unsubscribe = store.subscribe(() => flushes++);
  const source = createSyntheticSource({ rate, cars });
  await source.start({ onEvents: (e) => store.ingest(e), onStatus: () => {} });
  await new Promise((r) => setTimeout(r, seconds * 1000));
  await source.stop();
  unsubscribe();
  store.dispose();
  return { events: store.getSnapshot().total, flushesPerSec: Math.round((flushes / seconds) * 10) / 10 };
}

async function wholeTui() {
  const stdout = fakeTerminal() as NodeJS.WriteStream & { bytes: () => number };
  const stations = createStationsFileCatalog(defaultStationsFile());
  const events = createSyntheticSource({ rate, cars, stations: await stations.list().catch(() => []) });
  const summary = await runTail({ sources: { events, stations }, output: 'tui', durationSec: seconds, stdout, stderr: fakeTerminal(), stdin: fakeKeyboard() });
  return { events: summary.events, eventsPerSec: summary.eventsPerSec, terminalKbPerSec: Math.round(stdout.bytes() / 1024 / seconds) };
}

const load = () => loadavg().map((n) => Math.round(n * 100) / 100);
const date = new Date().toISOString();
const loadBefore = load();
const store = values['tui-only'] ? undefined : await measure(storeOnly);
const tui = await measure(wholeTui);
const json = JSON.stringify({ bench: 'tail', date, node: process.version, nodeEnv: process.env.NODE_ENV ?? 'development', targetRate: rate, seconds, cars, cores: availableParallelism(), loadAvg1m5m15m: { before: loadBefore, after: load() }, store, tui }, null, 2) + '\n';
if (values.out) writeFileSync(values.out, json);
process.stdout.write(json);
process.exit(0);
