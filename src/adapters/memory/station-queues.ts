/**
 * Per-station promotion orders of the in-memory reservations: for each station, the queued cars that
 * have it among their candidates, by their stationQueueScore there (src/ports/reservations.ts), so a
 * freed port finds its car at the head instead of scanning every queued car (a 10,000-car day queues
 * thousands; the scan was the largest cost of the virtual simulation's profile).
 *
 * Each station's order is a binary min-heap by (score, enqueue sequence). A car leaving the queue
 * (promoted, cancelled, or re-queued with a new urgency) only marks its entries dead; dead entries
 * are dropped when they reach a head, and a heap mostly dead is rebuilt. A car's score at a station
 * changes only when it is queued or its urgency is refreshed, and both pass through remove + add
 * here, so the head is always exact. Ties cannot happen (the sequence is unique per queued car), so
 * the head is the minimum a full scan would find.
 */
interface StationEntry {
  score: number;
  seq: number;
  bookingId: string;
  live: boolean;
}

const less = (a: StationEntry, b: StationEntry): boolean => a.score < b.score || (a.score === b.score && a.seq < b.seq);

class EntryHeap {
  items: StationEntry[] = [];
  dead = 0;

  push(e: StationEntry): void {
    const h = this.items;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }

  /** The live minimum, after dropping dead entries from the top. */
  top(): StationEntry | undefined {
    while (this.items.length > 0 && !this.items[0].live) {
      this.pop();
      this.dead--;
    }
    return this.items[0];
  }

  /** Drops the dead entries when they are most of the heap (their cars were promoted at another station). */
  compact(): void {
    if (this.dead < 1024 || this.dead * 2 < this.items.length) return;
    const live = this.items.filter((e) => e.live);
    this.items = [];
    this.dead = 0;
    for (const e of live) this.push(e);
  }

  private pop(): void {
    const h = this.items;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && less(h[l], h[m])) m = l;
      if (r < h.length && less(h[r], h[m])) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m], h[i]];
      i = m;
    }
  }
}

export class StationQueues {
  private readonly orders = new Map<string, EntryHeap>();
  /** Each queued booking's live entries (one per distinct candidate station). */
  private readonly entriesOf = new Map<string, { heap: EntryHeap; entry: StationEntry }[]>();

  /** Adds a queued booking at each station with its score there (the first candidate of a station wins, as the book's candidateAt reads). */
  add(bookingId: string, seq: number, scored: { stationId: string; score: number }[]): void {
    const mine: { heap: EntryHeap; entry: StationEntry }[] = [];
    const seen = new Set<string>();
    for (const { stationId, score } of scored) {
      if (seen.has(stationId)) continue;
      seen.add(stationId);
      let heap = this.orders.get(stationId);
      if (!heap) this.orders.set(stationId, (heap = new EntryHeap()));
      const entry: StationEntry = { score, seq, bookingId, live: true };
      heap.push(entry);
      mine.push({ heap, entry });
    }
    this.entriesOf.set(bookingId, mine);
  }

  remove(bookingId: string): void {
    const mine = this.entriesOf.get(bookingId);
    if (!mine) return;
    this.entriesOf.delete(bookingId);
    for (const { heap, entry } of mine) {
      entry.live = false;
      heap.dead++;
      heap.compact();
    }
  }

  /** The queued booking a port freed at this station goes to (the lowest score there). */
  head(stationId: string): string | undefined {
    return this.orders.get(stationId)?.top()?.bookingId;
  }
}
