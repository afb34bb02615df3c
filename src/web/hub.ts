import type { WebSocket } from 'ws';
import type { FleetEvent } from '../domain/events.js';
import { BOUNDS, GRID } from '../domain/manhattan.js';
import type { PricePoint } from '../ports/price-source.js';
import { createFleetStore, type CarView, type FleetSnapshot, type FleetStore } from '../tui/store/fleet-store.js';
import { BookingTracker } from './bookings.js';
import { CLOSE_UNAUTHORIZED, type CarTuple, type ClientMsg, type DeltaMsg, type ServerMsg, type SnapshotMsg, type WebKpis, type WebPricePoint, type WebStation } from './protocol.js';

export type WebAuthResult = { ok: true; name: string } | { ok: false; reason: string };

export interface WebHubOptions {
  /** The operator check (src/web/auth.ts): the same principals as the gRPC server. */
  authenticate(token: string): WebAuthResult;
  /** CancelBooking on the server, presenting the browser's own token; resolves with what happened. */
  cancelBooking?(token: string, req: { carId?: string; bookingId?: string }): Promise<string>;
  /** RequestBooking on the server for a car (optionally at a station), presenting the browser's own token. */
  requestBooking?(token: string, req: { carId: string; stationId?: string }): Promise<string>;
  /** SetStationAvailability on the server (offline re-plans the station's bookings), with the browser's own token. */
  setStationOnline?(token: string, req: { stationId: string; online: boolean }): Promise<string>;
  /** The tail's store; one is created when absent. */
  store?: FleetStore;
  sourceLabel?: string;
  /** Minimum time between frames to one client (100 ms: at most 10 a second). */
  frameMs?: number;
  /** A client with more than this queued in its socket skips frames until it drains (drop-to-latest per car). */
  maxBufferedBytes?: number;
  /** An unauthenticated connection is closed after this long. */
  authTimeoutMs?: number;
  /** A basemap tile URL template handed to the page (src/web/tiles.ts checked it). */
  tiles?: string;
}

interface Client {
  ws: WebSocket;
  token?: string;
  /** Cars changed since this client's last frame: ids only, so a slow client costs at most one entry per car. */
  pending: Set<string>;
  removed: Set<string>;
  stationsKey: string;
  bookingsVersion: number;
  priceKey: string;
}

export interface HubStats {
  clients: number;
  frames: number;
  skipped: number;
  bytes: number;
}

const r5 = (v: number) => Math.round(v * 1e5) / 1e5;
const r1 = (v: number) => Math.round(v * 10) / 10;
const tuple = (c: CarView): CarTuple => [c.carId, r5(c.lat), r5(c.lon), r1(c.battery), r1(c.velocity)];

/**
 * The WebSocket hub: one store fed by the tail's event stream, a snapshot for each authenticated
 * browser, then coalesced deltas at most every `frameMs`. Memory per client is bounded: nothing is
 * queued beyond `maxBufferedBytes` in the socket and a set of changed car ids (at most the fleet).
 */
export class WebHub {
  readonly store: FleetStore;
  private readonly tracker = new BookingTracker();
  private readonly clients = new Set<Client>();
  private dirty = new Set<string>();
  private removedNow = new Set<string>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly counters = { frames: 0, skipped: 0, bytes: 0 };
  private readonly frameMs: number;
  private readonly maxBuffered: number;

  constructor(private readonly opts: WebHubOptions) {
    this.store = opts.store ?? createFleetStore();
    this.frameMs = opts.frameMs ?? 100;
    this.maxBuffered = opts.maxBufferedBytes ?? 1 << 20;
  }

  /** Events from the source, in order: into the store, and the changed cars into every client's next frame. */
  ingest(events: FleetEvent[]): void {
    for (const e of events) {
      if (e.event_type === 'telemetry') this.dirty.add(e.car_id);
      else this.tracker.apply(e);
    }
    const before = this.store.getSnapshot().cars.size;
    this.store.ingest(events);
    // An evicted car (past the store's bound) is gone from the map; its id is told as removed.
    if (before >= 50_000) for (const id of this.dirty) if (!this.store.getCar(id)) this.removedNow.add(id);
  }

  start(): void {
    this.timer ??= setInterval(() => this.tick(), this.frameMs);
    this.timer.unref?.();
  }

  stats(): HubStats {
    return { clients: this.clients.size, ...this.counters };
  }

  /** A new `/ws` connection: it must authenticate with its first message. */
  accept(ws: WebSocket): void {
    const client: Client = { ws, pending: new Set(), removed: new Set(), stationsKey: '', bookingsVersion: -1, priceKey: '' };
    const authTimer = setTimeout(() => ws.close(CLOSE_UNAUTHORIZED, 'no credential'), this.opts.authTimeoutMs ?? 10_000);
    ws.on('message', (data, isBinary) => {
      let msg: ClientMsg;
      try {
        msg = JSON.parse(isBinary ? '' : String(data));
      } catch {
        return void ws.close(1003, 'not JSON');
      }
      if (!client.token) {
        clearTimeout(authTimer);
        this.authenticate(client, msg);
      } else if (msg.type === 'cancel') void this.cancel(client, msg);
      else if (msg.type === 'request') void this.request(client, msg);
      else if (msg.type === 'station') void this.station(client, msg);
    });
    ws.on('close', () => {
      clearTimeout(authTimer);
      this.clients.delete(client);
    });
    ws.on('error', () => this.clients.delete(client));
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const c of this.clients) c.ws.close(1001, 'server stopping');
    this.clients.clear();
    this.store.dispose();
  }

  private authenticate(client: Client, msg: ClientMsg): void {
    const result: WebAuthResult = msg.type === 'auth' && typeof msg.token === 'string' ? this.opts.authenticate(msg.token) : { ok: false, reason: 'first message must be {"type":"auth","token":…}' };
    if (!result.ok) {
      this.send(client, { type: 'auth_failed', reason: result.reason });
      client.ws.close(CLOSE_UNAUTHORIZED, 'unauthorized');
      return;
    }
    client.token = (msg as { token: string }).token;
    const snap = this.store.getSnapshot();
    const stations = this.stations(snap);
    const price = this.price(snap);
    client.stationsKey = JSON.stringify(stations);
    client.bookingsVersion = this.tracker.version;
    client.priceKey = JSON.stringify(price);
    const cars: CarTuple[] = [];
    for (const c of snap.cars.values()) cars.push(tuple(c));
    const frame: SnapshotMsg = {
      type: 'snapshot',
      operator: result.name,
      grid: { bounds: { ...BOUNDS }, avenues: GRID.avenues, streets: GRID.streets },
      cars,
      stations,
      bookings: this.tracker.list(),
      kpis: this.kpis(snap),
      critical: snap.critical.map(tuple),
      ...price,
      ...(this.opts.tiles ? { tiles: this.opts.tiles } : {}),
    };
    this.clients.add(client);
    this.send(client, frame);
  }

  private async cancel(client: Client, msg: Extract<ClientMsg, { type: 'cancel' }>): Promise<void> {
    const req = { carId: typeof msg.carId === 'string' ? msg.carId : undefined, bookingId: typeof msg.bookingId === 'string' ? msg.bookingId : undefined };
    const cancel = this.opts.cancelBooking;
    if (!req.carId && !req.bookingId) return this.answer(client, msg.id, 'cancel needs carId or bookingId');
    await this.act(client, msg.id, cancel && (() => cancel(client.token!, req)));
  }

  private async request(client: Client, msg: Extract<ClientMsg, { type: 'request' }>): Promise<void> {
    const request = this.opts.requestBooking;
    if (typeof msg.carId !== 'string' || !msg.carId) return this.answer(client, msg.id, 'request needs carId');
    const req = { carId: msg.carId, stationId: typeof msg.stationId === 'string' && msg.stationId ? msg.stationId : undefined };
    await this.act(client, msg.id, request && (() => request(client.token!, req)));
  }

  private async station(client: Client, msg: Extract<ClientMsg, { type: 'station' }>): Promise<void> {
    const set = this.opts.setStationOnline;
    if (typeof msg.stationId !== 'string' || !msg.stationId || typeof msg.online !== 'boolean') return this.answer(client, msg.id, 'station needs stationId and online (true|false)');
    await this.act(client, msg.id, set && (() => set(client.token!, { stationId: msg.stationId, online: msg.online })));
  }

  /** Runs an operator action on the server with the browser's own token; the server's answer (or refusal) goes back. */
  private async act(client: Client, id: unknown, run: (() => Promise<string>) | undefined): Promise<void> {
    if (!run) return this.answer(client, id, 'this hub has no server to act on');
    try {
      this.send(client, { type: 'action_result', id: String(id ?? ''), ok: true, message: await run() });
    } catch (err) {
      this.answer(client, id, (err as { details?: string }).details || (err as Error).message);
    }
  }

  private answer(client: Client, id: unknown, message: string): void {
    this.send(client, { type: 'action_result', id: String(id ?? ''), ok: false, message });
  }

  /** One frame: the changed cars to every client that keeps up; a client behind skips it and keeps its set. */
  tick(): void {
    const dirty = this.dirty;
    const removed = this.removedNow;
    this.dirty = new Set();
    this.removedNow = new Set();
    if (!this.clients.size) return;
    const snap = this.store.getSnapshot();
    const stations = this.stations(snap);
    const stationsKey = JSON.stringify(stations);
    const price = this.price(snap);
    const priceKey = JSON.stringify(price);
    const kpis = this.kpis(snap);
    const critical = snap.critical.map(tuple);
    let bookings: ReturnType<BookingTracker['list']> | undefined;
    let shared: string | undefined;
    for (const c of this.clients) {
      const inSync = c.pending.size === 0 && c.removed.size === 0;
      for (const id of dirty) c.pending.add(id);
      for (const id of removed) c.removed.add(id);
      if (c.ws.bufferedAmount > this.maxBuffered) {
        this.counters.skipped++;
        continue;
      }
      const frame: DeltaMsg = { type: 'delta', cars: [], removed: [], kpis, critical };
      if (c.stationsKey !== stationsKey) frame.stations = stations;
      if (c.bookingsVersion !== this.tracker.version) frame.bookings = bookings ??= this.tracker.list();
      if (c.priceKey !== priceKey) Object.assign(frame, price);
      const canShare = inSync && !frame.stations && !frame.bookings && !('price' in frame);
      let text: string;
      if (canShare) text = shared ??= JSON.stringify({ ...frame, cars: this.cars(dirty), removed: [...removed] });
      else text = JSON.stringify({ ...frame, cars: this.cars(c.pending), removed: [...c.removed] });
      c.pending.clear();
      c.removed.clear();
      c.stationsKey = stationsKey;
      c.bookingsVersion = this.tracker.version;
      c.priceKey = priceKey;
      this.sendText(c, text);
    }
  }

  private cars(ids: Set<string>): CarTuple[] {
    const out: CarTuple[] = [];
    for (const id of ids) {
      const car = this.store.getCar(id);
      if (car) out.push(tuple(car));
    }
    return out;
  }

  private stations(snap: FleetSnapshot): WebStation[] {
    return snap.stations.map((s) => ({ id: s.id, name: s.name, lat: s.lat, lon: s.lon, ports: s.ports, taken: s.taken, queue: s.queue, priceRate: s.priceRate, ...(s.offline ? { offline: true } : {}) }));
  }

  private price(snap: FleetSnapshot): { price: WebPricePoint | null; forecast: WebPricePoint[] } {
    const point = (p: PricePoint): WebPricePoint => ({ time: p.timestamp, price: p.price_per_kwh });
    return { price: snap.price ? point(snap.price) : null, forecast: snap.forecast.map(point) };
  }

  private kpis(snap: FleetSnapshot): WebKpis {
    let queued = 0;
    for (const s of snap.stations) queued += s.queue;
    return {
      cars: snap.cars.size,
      critical: snap.criticalCount,
      queued,
      charging: this.tracker.chargingCount,
      avgPricePaid: this.tracker.avgPricePaid,
      rate: Math.round(snap.rate),
      bands: { ...snap.bands },
      source: this.opts.sourceLabel ?? '',
    };
  }

  private send(c: Client, msg: ServerMsg): void {
    this.sendText(c, JSON.stringify(msg));
  }

  private sendText(c: Client, text: string): void {
    if (c.ws.readyState !== c.ws.OPEN) return;
    this.counters.frames++;
    this.counters.bytes += Buffer.byteLength(text);
    c.ws.send(text);
  }
}
