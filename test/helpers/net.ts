import { createConnection, createServer } from 'node:net';

/** A TCP port free right now on 127.0.0.1 (the OS picks it; it may be taken again before use). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection({ port, host: '127.0.0.1' }, () => {
      c.end();
      resolve(true);
    });
    c.on('error', () => resolve(false));
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * One sample from a Prometheus text endpoint: the first line for `name` (a bare name, or with its
 * labels as printed, e.g. `x_total{table="telemetry"}`); 0 when the endpoint or the line is missing.
 */
export async function scrapeMetric(url: string, name: string): Promise<number> {
  const text = await fetch(url).then((r) => r.text(), () => '');
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}
