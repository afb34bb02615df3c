import Table from 'cli-table3';
import chalk from 'chalk';

export const isTTY = (stream: NodeJS.WriteStream = process.stdout) => Boolean(stream.isTTY);

/** A table that is styled on a TTY and plain (no colours in borders) when piped. */
export function table(head: string[], rows: (string | number)[][]): string {
  const tty = isTTY();
  const t = new Table({
    head: tty ? head.map((h) => chalk.bold(h)) : head,
    style: tty ? { head: [], border: [] } : { head: [], border: [], compact: true },
    chars: tty ? undefined : { top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '', left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  ' },
  });
  for (const r of rows) t.push(r.map(String));
  return t.toString();
}

/** 75_000 → "1m15s"; 3_900_000 → "1h05m". */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
