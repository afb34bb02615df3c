import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import type { FleetEvent } from '../../../src/domain/events.js';
import { operatorAuthenticator } from '../../../src/web/auth.js';
import { WebHub } from '../../../src/web/hub.js';
import type { DeltaMsg, ServerMsg, SnapshotMsg } from '../../../src/web/protocol.js';

class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  sent: ServerMsg[] = [];
  closed?: number;
  send(text: string) {
    this.sent.push(JSON.parse(text));
  }
  close(code: number) {
    this.closed = code;
    this.readyState = 3;
    this.emit('close');
  }
  say(msg: unknown) {
    this.emit('message', Buffer.from(JSON.stringify(msg)), false);
  }
}

const tel = (car: string, battery: number, lat = 40.75): FleetEvent => ({ event_id: '', event_type: 'telemetry', car_id: car, lat, lon: -73.98, battery, velocity: 10, timestamp: 1 });
const OP = 'operator-token-0123456789';
const FLEET = 'fleet-token-0123456789';

function hub() {
  return new WebHub({ authenticate: operatorAuthenticator({ fleet: [FLEET], operator: [OP] }) });
}

describe('WebHub', () => {
  it('refuses a wrong token and a fleet (non-operator) token', () => {
    const h = hub();
    for (const token of ['nope', FLEET]) {
      const ws = new FakeSocket();
      h.accept(ws as unknown as WebSocket);
      ws.say({ type: 'auth', token });
      expect(ws.sent[0]).toMatchObject({ type: 'auth_failed' });
      expect(ws.closed).toBe(4401);
    }
    expect(h.stats().clients).toBe(0);
    void h.close();
  });

  it('sends a snapshot, then only the changed cars, latest state per car', () => {
    const h = hub();
    h.ingest([tel('A', 80), tel('B', 30)]);
    const ws = new FakeSocket();
    h.accept(ws as unknown as WebSocket);
    ws.say({ type: 'auth', token: OP });
    const snap = ws.sent[0] as SnapshotMsg;
    expect(snap.type).toBe('snapshot');
    expect(snap.cars.map((c) => c[0]).sort()).toEqual(['A', 'B']);
    expect(snap.grid.avenues.length).toBeGreaterThan(5);
    h.tick(); // flushes what came before the snapshot
    ws.sent = [];
    h.ingest([tel('A', 70), tel('A', 60)]);
    h.tick();
    const d = ws.sent[0] as DeltaMsg;
    expect(d.cars).toEqual([['A', 40.75, -73.98, 60, 10]]);
    void h.close();
  });

  it('skips frames for a client whose socket is full and catches it up with the latest per car', () => {
    const h = hub();
    const ws = new FakeSocket();
    h.accept(ws as unknown as WebSocket);
    ws.say({ type: 'auth', token: OP });
    ws.sent = [];
    ws.bufferedAmount = 10 << 20;
    for (let i = 0; i < 5; i++) {
      h.ingest([tel('A', 90 - i), tel(`C${i}`, 50)]);
      h.tick();
    }
    expect(ws.sent).toEqual([]);
    expect(h.stats().skipped).toBe(5);
    ws.bufferedAmount = 0;
    h.tick();
    const d = ws.sent[0] as DeltaMsg;
    expect(d.cars.length).toBe(6);
    expect(d.cars.find((c) => c[0] === 'A')![3]).toBe(86);
    void h.close();
  });

  it('cancels with the browser token, and reports a refusal', async () => {
    const seen: string[] = [];
    const h = new WebHub({
      authenticate: operatorAuthenticator({ fleet: [], operator: [OP] }),
      cancelBooking: async (token, req) => {
        seen.push(`${token}:${req.carId}`);
        if (req.carId === 'X') throw Object.assign(new Error('x'), { details: 'no active booking' });
        return 'cancelled';
      },
    });
    const ws = new FakeSocket();
    h.accept(ws as unknown as WebSocket);
    ws.say({ type: 'auth', token: OP });
    ws.say({ type: 'cancel', id: '1', carId: 'A' });
    ws.say({ type: 'cancel', id: '2', carId: 'X' });
    await new Promise((r) => setTimeout(r, 10));
    expect(seen).toEqual([`${OP}:A`, `${OP}:X`]);
    expect(ws.sent.filter((m) => m.type === 'action_result')).toEqual([
      { type: 'action_result', id: '1', ok: true, message: 'cancelled' },
      { type: 'action_result', id: '2', ok: false, message: 'no active booking' },
    ]);
    void h.close();
  });

  it('requests a booking for a car with the browser token, and checks the message first', async () => {
    const seen: string[] = [];
    const h = new WebHub({
      authenticate: operatorAuthenticator({ fleet: [], operator: [OP] }),
      requestBooking: async (token, req) => {
        seen.push(`${token}:${req.carId}:${req.stationId ?? '-'}`);
        return `book ${req.carId}: confirmed`;
      },
    });
    const ws = new FakeSocket();
    h.accept(ws as unknown as WebSocket);
    ws.say({ type: 'auth', token: OP });
    ws.say({ type: 'request', id: '1', carId: 'A' });
    ws.say({ type: 'request', id: '2', carId: 'B', stationId: 'ST-1' });
    ws.say({ type: 'request', id: '3', carId: 42 });
    await new Promise((r) => setTimeout(r, 10));
    expect(seen).toEqual([`${OP}:A:-`, `${OP}:B:ST-1`]);
    expect(ws.sent.filter((m) => m.type === 'action_result')).toEqual([
      { type: 'action_result', id: '3', ok: false, message: 'request needs carId' },
      { type: 'action_result', id: '1', ok: true, message: 'book A: confirmed' },
      { type: 'action_result', id: '2', ok: true, message: 'book B: confirmed' },
    ]);
    void h.close();
  });

  it('takes a station offline and online with the browser token, and checks the message first', async () => {
    const seen: string[] = [];
    const h = new WebHub({
      authenticate: operatorAuthenticator({ fleet: [], operator: [OP] }),
      setStationOnline: async (token, req) => {
        seen.push(`${token}:${req.stationId}:${req.online}`);
        if (req.stationId === 'ST-X') throw new Error('NOT_FOUND: unknown station ST-X');
        return `${req.stationId} ${req.online ? 'online' : 'offline'}`;
      },
    });
    const ws = new FakeSocket();
    h.accept(ws as unknown as WebSocket);
    ws.say({ type: 'auth', token: OP });
    ws.say({ type: 'station', id: '1', stationId: 'ST-1', online: false });
    ws.say({ type: 'station', id: '2', stationId: 'ST-X', online: true });
    ws.say({ type: 'station', id: '3', stationId: 'ST-1', online: 'yes' });
    await new Promise((r) => setTimeout(r, 10));
    expect(seen).toEqual([`${OP}:ST-1:false`, `${OP}:ST-X:true`]);
    expect(ws.sent.filter((m) => m.type === 'action_result')).toEqual([
      { type: 'action_result', id: '3', ok: false, message: 'station needs stationId and online (true|false)' },
      { type: 'action_result', id: '1', ok: true, message: 'ST-1 offline' },
      { type: 'action_result', id: '2', ok: false, message: 'NOT_FOUND: unknown station ST-X' },
    ]);
    void h.close();
  });
});
