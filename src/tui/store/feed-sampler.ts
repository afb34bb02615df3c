import type { FleetEvent } from '../../domain/events.js';
import { isCritical } from './bands.js';
import type { FeedFilter, FeedHistory, FeedItem, NoteTone } from './types.js';

export interface FeedSamplerOptions {
  /** Feed lines added per flush; the rest are counted in a "… N more" note. */
  perFlush: number;
  /** Items per <Static> generation. */
  generationSize: number;
  /** The flush interval, only to say it in the "… N more" note. */
  flushMs: number;
  /** Lines the feed panel can scroll back through (default 1,000). */
  scrollback?: number;
}

/** A critical battery event, or telemetry with a critical battery. */
export function eventIsCritical(e: FleetEvent): boolean {
  return e.event_type === 'battery_critical' || (e.event_type === 'telemetry' && isCritical(e.battery));
}

/** Whether the feed filter lets an event through. */
export function matchesFilter(filter: FeedFilter, e: FleetEvent, critical: boolean): boolean {
  if (filter.criticalOnly && !critical) return false;
  return !filter.carId || e.car_id.toLowerCase().includes(filter.carId.toLowerCase());
}

/**
 * The feed: samples events between flushes (critical events are kept ahead of ordinary ones, at
 * most perFlush lines a flush, the rest counted), applies the filter and the pause, and keeps the
 * history in bounded generations.
 */
export class FeedSampler {
  filter: FeedFilter = { criticalOnly: false, carId: '' };
  paused = false;
  /** Events not shown since the pause began. */
  pausedSkipped = 0;
  history: FeedHistory = { generation: 0, items: [] };
  /** The panel's scrollback: the newest lines last, bounded; a new array per flush that adds lines. */
  scrollback: FeedItem[] = [];
  /** Events the sampler left out of the feed since the start (they are still counted everywhere else). */
  skipped = 0;

  private pendingCritical: FleetEvent[] = [];
  private pendingOther: FleetEvent[] = [];
  private pendingDropped = 0;
  private pendingNotes: FeedItem[] = [];
  private nextId = 1;

  constructor(private readonly opts: FeedSamplerOptions) {}

  /** Offers one event to the feed. */
  sample(e: FleetEvent): void {
    const critical = eventIsCritical(e);
    if (!matchesFilter(this.filter, e, critical)) return;
    if (this.paused) {
      this.pausedSkipped++;
      return;
    }
    const list = critical ? this.pendingCritical : this.pendingOther;
    list.push(e);
    if (list.length > this.opts.perFlush) {
      list.shift();
      this.pendingDropped++;
    }
  }

  /** Queues a note for the next flush (at most perFlush notes a flush; the oldest go first). */
  note(text: string, tone: NoteTone): void {
    this.pendingNotes.push({ id: this.nextId++, kind: 'note', text, tone });
    if (this.pendingNotes.length > this.opts.perFlush) this.pendingNotes.shift();
  }

  /** Moves what was sampled since the last flush into the history. */
  flush(): void {
    this.append(this.drain());
  }

  /** Notes first, then the kept events in time order, then a note counting the events left out. */
  drain(): FeedItem[] {
    const { perFlush, flushMs } = this.opts;
    const room = Math.max(0, perFlush - this.pendingCritical.length);
    const other = this.pendingOther.slice(this.pendingOther.length - room);
    const dropped = this.pendingDropped + this.pendingOther.length - other.length;
    const events = [...this.pendingCritical, ...other].sort((a, b) => a.timestamp - b.timestamp);
    const items: FeedItem[] = [...this.pendingNotes, ...events.map((event) => ({ id: this.nextId++, kind: 'event' as const, event }))];
    if (dropped > 0) items.push({ id: this.nextId++, kind: 'note', tone: 'info', text: `… ${dropped} more events (the feed shows up to ${perFlush} per ${flushMs} ms; counts include all)` });
    this.pendingCritical = [];
    this.pendingOther = [];
    this.pendingDropped = 0;
    this.pendingNotes = [];
    this.skipped += dropped;
    return items;
  }

  /** Appends to the history; a full generation is replaced by a new one (new array, new key). */
  append(items: FeedItem[]): void {
    if (!items.length) return;
    const max = this.opts.scrollback ?? 1_000;
    const kept = this.scrollback.length + items.length > max ? this.scrollback.slice(this.scrollback.length + items.length - max) : this.scrollback;
    this.scrollback = kept.concat(items.slice(-max));
    const { generationSize } = this.opts;
    const feed = this.history;
    if (feed.items.length + items.length > generationSize) this.history = { generation: feed.generation + 1, items: items.slice(-generationSize) };
    else this.history = { generation: feed.generation, items: [...feed.items, ...items] };
  }
}
