/** Small numeric helpers shared by the benchmark modules. */

export const round = (n: number, digits = 0): number => {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
};

/** Nearest-rank percentile of unsorted samples; null when there are none. */
export function percentile(samples: ArrayLike<number>, p: number): number | null {
  if (samples.length === 0) return null;
  const sorted = Float64Array.from(samples).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/** a / b, rounded, or null when either side is missing or b is 0. */
export function ratio(a: number | null | undefined, b: number | null | undefined, digits = 3): number | null {
  if (a === null || a === undefined || b === null || b === undefined || b === 0) return null;
  return round(a / b, digits);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls check() every intervalMs until it returns truthy or the deadline passes. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(intervalMs);
  }
}

/** Progress goes to stderr; stdout carries only the final JSON. */
export const say = (msg: string): void => void process.stderr.write(`[bench] ${msg}\n`);

/**
 * Spins for `ms` and returns the share of one core this thread actually got (1 = a whole core).
 * On a shared machine this tells how much of each figure is the code and how much the neighbours.
 */
export function cpuShare(ms = 250): number {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  while (performance.now() - t0 < ms);
  const cpu = process.cpuUsage(cpu0);
  return round((cpu.user + cpu.system) / 1000 / (performance.now() - t0), 2);
}

/**
 * Waits (bounded) until a spinning thread gets at least `minShare` of a core, so a step does not
 * start while neighbours saturate the machine. Returns the last share measured and the wait.
 */
export async function waitForQuiet(minShare = 0.7, maxWaitMs = 30_000): Promise<{ share: number; waitedMs: number }> {
  const t0 = Date.now();
  let share = cpuShare();
  while (share < minShare && Date.now() - t0 < maxWaitMs) {
    await sleep(2_000);
    share = cpuShare();
  }
  return { share, waitedMs: Date.now() - t0 };
}
