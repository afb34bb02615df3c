/**
 * Process figures for bench/streams.ts, from /proc (Linux): which processes under `greenlane up` are
 * ingestion (its child and the processes that child forked) and which the worker, and their RSS and
 * CPU time. tsx's esbuild helper processes (running from source) are not GreenLane and are left out.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Clock ticks per second of /proc/<pid>/stat utime/stime (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

interface Proc {
  pid: number;
  ppid: number;
  comm: string;
  cmdline: string;
  cpuMs: number;
  rssMb: number;
}

function readProc(pid: number): Proc | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
    return { pid, ppid: Number(f[1]), comm, cmdline, cpuMs: ((Number(f[11]) + Number(f[12])) * 1000) / USER_HZ, rssMb: rss ? Number(rss[1]) / 1024 : 0 };
  } catch {
    return null;
  }
}

function allProcs(): Proc[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((d) => readProc(Number(d)))
    .filter((p): p is Proc => p !== null);
}

export interface Tree {
  ingestion: number[];
  worker: number[];
}

/** The ingestion and worker processes `greenlane up` (pid) runs now. */
export function processTree(upPid: number, procs = allProcs()): Tree {
  const children = (pid: number) => procs.filter((p) => p.ppid === pid && p.comm !== 'esbuild');
  const descendants = (pid: number): number[] => children(pid).flatMap((c) => [c.pid, ...descendants(c.pid)]);
  const role = (name: string) => children(upPid).filter((c) => new RegExp(`\\s${name}(\\s|$)`).test(c.cmdline)).flatMap((c) => [c.pid, ...descendants(c.pid)]);
  return { ingestion: role('ingestion'), worker: role('worker') };
}

export interface RoleSample {
  pids: number;
  rssMb: number;
  cpuMs: number;
}

export interface TreeSample {
  at: number;
  ingestion: RoleSample;
  worker: RoleSample;
}

/** RSS and CPU time summed over each role's processes now (re-reading the tree: a restarted process counts). */
export function sampleTree(upPid: number): TreeSample {
  const procs = allProcs();
  const tree = processTree(upPid, procs);
  const sum = (pids: number[]): RoleSample => {
    const ps = procs.filter((p) => pids.includes(p.pid));
    return { pids: ps.length, rssMb: ps.reduce((n, p) => n + p.rssMb, 0), cpuMs: ps.reduce((n, p) => n + p.cpuMs, 0) };
  };
  return { at: Date.now(), ingestion: sum(tree.ingestion), worker: sum(tree.worker) };
}

/** A free TCP port on 127.0.0.1 with the next `span − 1` ports free too. */
export async function freeTcpPort(span = 1): Promise<number> {
  const free = (port: number) => new Promise<number | null>((resolve) => {
    const s = createServer().once('error', () => resolve(null)).listen(port, '127.0.0.1', () => {
      const got = (s.address() as { port: number }).port;
      s.close(() => resolve(got));
    });
  });
  for (;;) {
    const base = await free(0);
    if (base === null) continue;
    let ok = true;
    for (let i = 1; i < span && ok; i++) ok = (await free(base + i)) !== null;
    if (ok) return base;
  }
}
