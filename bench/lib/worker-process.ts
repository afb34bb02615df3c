/**
 * The worker as `greenlane up` runs it in external mode: its own process (`greenlane worker`, from
 * source through bin/dev.js) with the stack's namespace and engines, so ingestion and the worker no
 * longer share one Node thread. Its CPU is read from /proc (Linux) for the step's evidence.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const DEV_BIN = fileURLToPath(new URL('../../bin/dev.js', import.meta.url));
/** Absolute, since the child runs in the bench's temp dir (no config of the checkout leaks in). */
const TSX = import.meta.resolve('tsx');
/** Clock ticks per second of /proc/<pid>/stat utime/stime (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

export interface WorkerProcess {
  pid: number;
  /** CPU time of the process so far, ms (null when /proc is not readable). */
  cpuMs(): number | null;
  /** SIGTERM (the worker drains its in-flight batch and commits), SIGKILL after the deadline. */
  stop(deadlineMs?: number): Promise<void>;
}

/** Starts `greenlane worker` and resolves once it says it is consuming (or rejects when it exits). */
export async function startWorkerProcess(env: NodeJS.ProcessEnv, cwd: string, timeoutMs = 60_000): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['--import', TSX, DEV_BIN, 'worker'], { env: { ...process.env, ...env }, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => void (output = (output + chunk.toString()).slice(-4000));
  child.stderr!.on('data', keep);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`greenlane worker did not start within ${timeoutMs} ms: ${output}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      keep(chunk);
      if (output.includes('Worker consuming')) done();
    };
    const onExit = (code: number | null) => fail(new Error(`greenlane worker exited (${code}) before consuming: ${output}`));
    function done(): void {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
      resolve();
    }
    function fail(err: Error): void {
      done();
      child.kill('SIGKILL');
      reject(err);
    }
    child.stdout!.on('data', onData);
    child.on('exit', onExit);
  });
  // Keep draining its output so a chatty child never blocks on a full pipe.
  child.stdout!.resume();
  return { pid: child.pid!, cpuMs: () => processCpuMs(child.pid!), stop: (deadlineMs = 15_000) => stopChild(child, deadlineMs) };
}

function processCpuMs(pid: number): number | null {
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / USER_HZ;
  } catch {
    return null;
  }
}

async function stopChild(child: ChildProcess, deadlineMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
  await exited;
  clearTimeout(timer);
}
