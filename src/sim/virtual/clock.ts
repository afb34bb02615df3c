/**
 * Virtual time for the deterministic simulation: a clock that only moves when the engine moves it,
 * and a queue of events due at exact instants (a charge reaching its target), ordered by time and
 * then by the order they were scheduled, so two runs with the same inputs replay identically.
 */
export class VirtualClock {
  private ms: number;

  constructor(startMs: number) {
    this.ms = startMs;
  }

  now(): number {
    return this.ms;
  }

  /** Moves to `ms`; never backwards. */
  advanceTo(ms: number): void {
    if (ms > this.ms) this.ms = ms;
  }
}

interface Scheduled<T> {
  at: number;
  seq: number;
  value: T;
}

/** A binary min-heap of events by (at, seq). */
export class EventQueue<T> {
  private readonly heap: Scheduled<T>[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(at: number, value: T): void {
    this.heap.push({ at, seq: this.seq++, value });
    this.up(this.heap.length - 1);
  }

  /** The earliest event due at or before `ms`, removed; undefined when none is due. */
  popDue(ms: number): { at: number; value: T } | undefined {
    const top = this.heap[0];
    if (!top || top.at > ms) return undefined;
    const last = this.heap.pop()!;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.down(0);
    }
    return { at: top.at, value: top.value };
  }

  private less(i: number, j: number): boolean {
    const a = this.heap[i];
    const b = this.heap[j];
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private swap(i: number, j: number): void {
    [this.heap[i], this.heap[j]] = [this.heap[j], this.heap[i]];
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.heap.length && this.less(l, m)) m = l;
      if (r < this.heap.length && this.less(r, m)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }
}
