import type { Reservations, StationStatus } from '../../ports/reservations.js';

/** Station occupancy, reused for a short while (scoring many cars a second must not read it each time). */
export class StationStatusCache {
  private entry: { at: number; rows: Map<string, StationStatus> } | null = null;

  constructor(
    private readonly reservations: Pick<Reservations, 'stationStatus'>,
    private readonly now: () => number,
  ) {}

  async get(maxAgeMs = 250): Promise<Map<string, StationStatus>> {
    const now = this.now();
    if (this.entry && now - this.entry.at < maxAgeMs) return this.entry.rows;
    const rows = await this.reservations.stationStatus();
    this.entry = { at: now, rows: new Map(rows.map((r) => [r.id, r])) };
    return this.entry.rows;
  }

  /** After a change the coordinator made itself: the next read goes to the reservations. */
  invalidate(): void {
    this.entry = null;
  }
}
