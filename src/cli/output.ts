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
