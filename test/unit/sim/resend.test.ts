import { describe, expect, it } from 'vitest';
import type { CarStatusMsg } from '../../../src/grpc/proto.js';
import { UnackedBatches } from '../../../src/sim/resend.js';

const car = (id: string, timestamp: number): CarStatusMsg => ({ car_id: id, latitude: 40.7, longitude: -73.9, battery_level: 50, velocity: 0, timestamp });

describe('UnackedBatches', () => {
  it('numbers batches, forgets them on a cumulative ack and keeps the rest to send again in order', () => {
    const acked: number[] = [];
    const u = new UnackedBatches(10, (bs) => acked.push(...bs.map((b) => b.seq!)));
    expect(u.add([car('A', 1), car('B', 1)]).seq).toBe(1);
    expect(u.add([car('A', 2)]).seq).toBe(2);
    expect(u.add([car('A', 3), car('B', 3)]).seq).toBe(3);
    expect(u.pending).toBe(5);
    u.ack(2);
    expect(acked).toEqual([1, 2]);
    expect(u.acked).toBe(3);
    expect(u.pending).toBe(2);
    expect(u.unacked().map((b) => b.seq)).toEqual([3]);
    u.ack(2); // a repeated ack changes nothing
    expect(u.pending).toBe(2);
    expect(u.add([car('A', 4)]).seq).toBe(4); // numbering goes on across reconnects
    u.ack(4);
    expect(u.pending).toBe(0);
    expect(u.acked).toBe(6);
  });

  it('bounds what it keeps: no room once the unacknowledged readings reach the limit', () => {
    const u = new UnackedBatches(3);
    u.add([car('A', 0)]);
    u.ack(1);
    u.add([car('A', 1), car('B', 1)]);
    expect(u.hasRoom(1)).toBe(true);
    expect(u.hasRoom(2)).toBe(false);
  });

  it('a server that never acknowledges (older than acks): always room, the oldest batches are forgotten', () => {
    const u = new UnackedBatches(3);
    for (let t = 1; t <= 5; t++) {
      expect(u.hasRoom(2)).toBe(true);
      u.add([car('A', t), car('B', t)]);
    }
    expect(u.pending).toBeLessThanOrEqual(3);
    expect(u.unacked().map((b) => b.seq)).toEqual([5]);
  });
});
