import { describe, expect, it } from 'vitest';
import { StationQueues } from '../../../src/adapters/memory/station-queues.js';
import { mulberry32 } from '../../../src/domain/manhattan.js';

// The per-station promotion orders replace a scan over every queued car (src/adapters/memory/reservation-book.ts
// nextFor): after any mix of queueing, re-queueing with a new urgency and leaving, each station's head must be
// the car a full scan finds, the lowest (score, sequence) among the cars queued there.
describe('StationQueues', () => {
  it('gives at every station the car a full scan would, through thousands of adds, re-adds and removals', () => {
    const rng = mulberry32(7);
    const q = new StationQueues();
    const live = new Map<string, { seq: number; scored: { stationId: string; score: number }[] }>();
    const stations = ['a', 'b', 'c', 'd', 'e'];
    let seq = 0;
    const scan = (stationId: string): string | undefined => {
      let best: { id: string; score: number; seq: number } | undefined;
      for (const [id, v] of live) {
        const at = v.scored.find((s) => s.stationId === stationId);
        if (at && (!best || at.score < best.score || (at.score === best.score && v.seq < best.seq))) best = { id, score: at.score, seq: v.seq };
      }
      return best?.id;
    };
    for (let step = 0; step < 6000; step++) {
      const r = rng();
      const ids = [...live.keys()];
      if (r < 0.55 || ids.length === 0) {
        const id = `bk-${step}`;
        const scored = stations.filter(() => rng() < 0.6).map((stationId) => ({ stationId, score: Math.floor(rng() * 50) }));
        live.set(id, { seq: ++seq, scored });
        q.add(id, seq, scored);
      } else if (r < 0.75) {
        const id = ids[Math.floor(rng() * ids.length)];
        const v = live.get(id)!;
        q.remove(id);
        v.scored = v.scored.map((s) => ({ ...s, score: Math.floor(rng() * 50) }));
        q.add(id, v.seq, v.scored);
      } else {
        // Promoted at a station's head, or cancelled anywhere in the queue.
        const station = stations[Math.floor(rng() * stations.length)];
        const id = rng() < 0.5 ? (q.head(station) ?? ids[0]) : ids[Math.floor(rng() * ids.length)];
        q.remove(id);
        live.delete(id);
      }
      for (const s of stations) expect(q.head(s)).toBe(scan(s));
    }
    // Most of a long queue leaves at once (a heap mostly of dead entries is rebuilt): the heads stay exact.
    const ids = [...live.keys()];
    expect(ids.length).toBeGreaterThan(1500);
    ids.forEach((id, i) => {
      if (i % 20 === 0) return;
      q.remove(id);
      live.delete(id);
      if (i % 97 === 0) for (const s of stations) expect(q.head(s)).toBe(scan(s));
    });
    for (const s of stations) expect(q.head(s)).toBe(scan(s));
  });
});
