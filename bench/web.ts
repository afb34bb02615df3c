/**
 * Benchmark (not a test): the web hub at fleet scale. `--cars` cars report at 1 Hz (in 10 batches a
 * second) into the hub in a child process, which serves `/ws`; this process connects `--clients`
 * reading WebSocket clients and one that never reads. Prints JSON: the hub's CPU (% of one core,
 * event generation included), bytes and frames per reading client per second, and the hub's memory
 * over time (bounded while the stuck client's socket stays full).
 *
 *   node --import tsx bench/web.ts [--cars 10000] [--clients 5] [--seconds 20]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';
import type { FleetEvent } from '../src/domain/events.js';
import { BOUNDS } from '../src/domain/manhattan.js';
import { operatorAuthenticator } from '../src/web/auth.js';
import { WebHub } from '../src/web/hub.js';
import { startWebServer } from '../src/web/server.js';

const { values } = parseArgs({ options: { cars: { type: 'string', default: '10000' }, clients: { type: 'string', default: '5' }, seconds: { type: 'string', default: '20' }, child: { type: 'boolean', default: false } } });
const cars = Number(values.cars);
const seconds = Number(values.seconds);
const TOKEN = 'bench-operator-token-0123456789abcdef';
const mb = (n: number) => Math.round((n / 1024 / 1024) * 10) / 10;

/** The hub's process: synthetic telemetry at 1 Hz per car, the hub and its server; reports on request. */
async function child(): Promise<void> {
  const hub = new WebHub({ authenticate: operatorAuthenticator({ fleet: [], operator: [TOKEN] }) });
  hub.store.setStations([]);
  const web = await startWebServer({ hub, assetsDir: '/nonexistent', host: '127.0.0.1', port: 0 });
  let tick = 0;
  const pos = Array.from({ length: cars }, (_, i) => ({ lat: BOUNDS.minLat + ((i * 7919) % 1000) / 1000 * 0.15, lon: BOUNDS.minLon + ((i * 104729) % 1000) / 1000 * 0.09 }));
  const feed = setInterval(() => {
    // A tenth of the fleet every 100 ms: each car once a second.
    const slice = tick++ % 10;
    const now = Date.now();
    const events: FleetEvent[] = [];
    for (let i = slice; i < cars; i += 10) {
      const p = pos[i]!;
      p.lat += (Math.random() - 0.5) * 1e-4;
      p.lon += (Math.random() - 0.5) * 1e-4;
      events.push({ event_id: '', event_type: 'telemetry', car_id: `CAR-${String(i).padStart(5, '0')}`, lat: p.lat, lon: p.lon, battery: (i * 37) % 100, velocity: 30, timestamp: now });
    }
    hub.ingest(events);
  }, 100);
  process.send!({ port: web.port });
  let cpu = process.cpuUsage();
  let at = performance.now();
  process.on('message', async (m: string) => {
    if (m === 'mark') {
      cpu = process.cpuUsage();
      at = performance.now();
      process.send!({ marked: true });
    } else if (m === 'report') {
      const used = process.cpuUsage(cpu);
      const wall = performance.now() - at;
      globalThis.gc?.();
      const mem = process.memoryUsage();
      process.send!({ cpuPctOfCore: Math.round(((used.user + used.system) / 1000 / wall) * 1000) / 10, rssMb: mb(mem.rss), heapUsedMb: mb(mem.heapUsed), hub: hub.stats() });
    } else if (m === 'stop') {
      clearInterval(feed);
      await web.close();
      process.exit(0);
    }
  });
}

function ask<T>(proc: ChildProcess, msg: string): Promise<T> {
  return new Promise((resolve) => {
    proc.once('message', (m) => resolve(m as T));
    proc.send(msg);
  });
}

async function main(): Promise<void> {
  const proc = fork(new URL(import.meta.url).pathname, ['--child', '--cars', String(cars)], { execArgv: ['--import', 'tsx', '--expose-gc'] });
  const { port } = await new Promise<{ port: number }>((r) => proc.once('message', (m) => r(m as { port: number })));
  const url = `ws://127.0.0.1:${port}/ws`;
  const readers = Array.from({ length: Number(values.clients) }, () => ({ bytes: 0, frames: 0, snapshotBytes: 0, lastCars: 0 }));
  const sockets: WebSocket[] = [];
  await Promise.all(
    readers.map(
      (r) =>
        new Promise<void>((resolve) => {
          const ws = new WebSocket(url);
          sockets.push(ws);
          ws.on('open', () => ws.send(JSON.stringify({ type: 'auth', token: TOKEN })));
          ws.on('message', (data: Buffer) => {
            if (!r.snapshotBytes) {
              r.snapshotBytes = data.length;
              resolve();
              return;
            }
            r.bytes += data.length;
            r.frames++;
          });
        }),
    ),
  );
  // The stuck client: authenticates, then its socket is never read again.
  const stuck = new WebSocket(url);
  await new Promise<void>((r) => stuck.on('open', () => (stuck.send(JSON.stringify({ type: 'auth', token: TOKEN })), r())));
  await new Promise((r) => setTimeout(r, 300));
  (stuck as unknown as { _socket: { pause(): void } })._socket.pause();
  process.stderr.write(`hub on :${port}, ${cars} cars at 1 Hz, ${readers.length} readers + 1 stuck client; warming up 3 s…\n`);
  await new Promise((r) => setTimeout(r, 3_000));
  for (const r of readers) [r.bytes, r.frames] = [0, 0];
  await ask(proc, 'mark');
  const memory: { atSec: number; rssMb: number; heapUsedMb: number }[] = [];
  const t0 = Date.now();
  while (Date.now() - t0 < seconds * 1000) {
    await new Promise((r) => setTimeout(r, Math.min(5_000, seconds * 1000)));
    const rep = await ask<{ rssMb: number; heapUsedMb: number }>(proc, 'report');
    memory.push({ atSec: Math.round((Date.now() - t0) / 1000), rssMb: rep.rssMb, heapUsedMb: rep.heapUsedMb });
  }
  const wallSec = (Date.now() - t0) / 1000;
  const report = await ask<{ cpuPctOfCore: number; hub: { frames: number; skipped: number; bytes: number } }>(proc, 'report');
  const perClient = readers.map((r) => ({ kBytesPerSec: Math.round(r.bytes / wallSec / 1024), framesPerSec: Math.round((r.frames / wallSec) * 10) / 10, snapshotKBytes: Math.round(r.snapshotBytes / 1024) }));
  const heap = memory.map((m) => m.heapUsedMb);
  console.log(
    JSON.stringify(
      {
        bench: 'web-hub',
        cars,
        eventsPerSec: cars,
        readingClients: readers.length,
        stuckClients: 1,
        seconds: Math.round(wallSec),
        hubCpuPctOfCore: report.cpuPctOfCore,
        target: { hubCpuPctOfCoreMax: 30, met: report.cpuPctOfCore <= 30 },
        perClient,
        hub: report.hub,
        memory,
        memoryBounded: { heapFirstMb: heap[0], heapLastMb: heap[heap.length - 1], heapMaxMb: Math.max(...heap), stuckFramesSkipped: report.hub.skipped },
        machineLoadAvg1m: (await import('node:os')).loadavg()[0],
      },
      null,
      2,
    ),
  );
  for (const s of sockets) s.close();
  stuck.terminate();
  proc.send('stop');
}

if (values.child) await child();
else await main();
