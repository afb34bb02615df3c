import { EventEmitter } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stripVTControlCharacters as strip } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { render } from 'ink-testing-library';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createFleetClient, type FleetClient } from '../../src/grpc/client.js';
import { loadFleetProto } from '../../src/grpc/proto.js';
import type { Stack } from '../../src/app/stack.js';
import type { StationRow } from '../../src/services/queries/station-rows.js';
import { App } from '../../src/tui/components/App.js';
import { StationList } from '../../src/tui/components/StationList.js';
import { pollStationOccupancy, runTail } from '../../src/tui/run-tail.js';
import { createLiveStationCatalog, serverStationQueries, StationsUnavailableError, type StationQueries } from '../../src/tui/sources/live-stations.js';
import { createStationsFileCatalog } from '../../src/tui/sources/stations-file.js';
import type { EventSource, StationCatalog } from '../../src/tui/sources/types.js';
import { createFleetStore, type FleetStore, type StationView } from '../../src/tui/store/fleet-store.js';
import { askNearest } from '../../src/tui/store/nearest.js';
import { startTestStack, TINY_STATIONS } from '../helpers/query-stack.js';

const until = async <T,>(probe: () => T | undefined | false, what: string, ms = 5_000): Promise<T> => {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};
const frame = (r: { lastFrame: () => string | undefined }) => strip(r.lastFrame() ?? '');
const stationsFile = join(mkdtempSync(join(tmpdir(), 'gl-tail-live-')), 'stations.json');
writeFileSync(stationsFile, JSON.stringify(TINY_STATIONS));
const file = createStationsFileCatalog(stationsFile);

function serverCatalog(address: string, token: string): StationCatalog {
  const queries = serverStationQueries(address, () => createFleetClient(address, token));
  return createLiveStationCatalog({ file, label: queries.source, open: async () => queries });
}
const stationOf = (store: FleetStore, id: string) => store.getSnapshot().stations.find((s) => s.id === id);
const occupancy = (s: StationView | undefined) => s && [s.taken, s.ports, s.queue];

/** A source that only says it is connected: occupancy below comes from the stations queries alone. */
const quietSource = (): EventSource => ({ kind: 'server', label: 'quiet', start: async (h) => h.onStatus({ state: 'connected' }), stop: async () => {} });

describe('live station occupancy and nearest from a running server (embedded stack over memory adapters)', () => {
  let stack: Stack;
  let address: string;
  let token: string;
  let client: FleetClient;
  let catalog: StationCatalog;

  beforeAll(async () => {
    ({ stack, address, token } = await startTestStack());
    client = createFleetClient(address, token);
    // The fleet is busy before any tail starts: ST-A's one port is held and a second car queues for it.
    expect((await client.requestBooking({ car_id: 'CAR-1', station_id: 'ST-A', battery_level: 25, latitude: 40.751, longitude: -73.981 })).status).toBe('BOOKING_CONFIRMED');
    expect((await client.requestBooking({ car_id: 'CAR-2', station_id: 'ST-A', battery_level: 20, latitude: 40.752, longitude: -73.982 })).status).toBe('BOOKING_QUEUED');
    catalog = serverCatalog(address, token);
  }, 60_000);

  afterAll(async () => {
    await catalog?.close?.();
    client?.close();
    await stack?.stop({ drainMs: 2_000 });
  });

  it('the catalog answers holds, queue and price; the store and panel show them though no event was seen', async () => {
    const rows = await catalog.live!();
    expect(rows.map((r) => [r.id, r.ports, r.holds, r.free, r.queueLength])).toEqual([
      ['ST-A', 1, 1, 0, 1],
      ['ST-B', 1, 0, 1, 0],
    ]);
    const store = createFleetStore();
    store.setStations(await catalog.list());
    store.flush();
    expect(occupancy(stationOf(store, 'ST-A'))).toEqual([0, 1, 0]); // the file alone knows nothing of the hold
    expect(store.getSnapshot().stationTruth).toBe('events');
    store.setStationOccupancy(rows);
    store.flush();
    const snap = store.getSnapshot();
    expect(snap.stationTruth).toBe('live');
    expect(occupancy(stationOf(store, 'ST-A'))).toEqual([1, 1, 1]);
    expect(stationOf(store, 'ST-A')!.priceRate).toBe(rows[0].pricePerKwh);
    const r = render(<StationList stations={snap.stations} focused={false} rows={5} width={60} priceNow={snap.stations[0]!.priceRate} truth={snap.stationTruth} />);
    const lines = frame(r).split('\n');
    expect(lines[0]).toMatch(/^Stations \(2, 1 full\) live · \$\d\.\d\d\/kWh now$/);
    expect(lines[1]).toMatch(/^ 1 Alpha Garage\s+█{6}\s+0\/1 free q1/);
    expect(lines[2]).toMatch(/^ 2 Bravo Lot\s+░{6}\s+1\/1 free q0/);
    store.dispose();
  });

  it('n asks the server: free ports now, drive time and price, where the file alone would say the port is free', async () => {
    const answer = await askNearest('40.7505,-73.9805', { stations: [], getCar: () => undefined, remote: catalog.nearest });
    expect(answer).toMatchObject({ ok: true, source: 'server', label: '40.7505, -73.9805' });
    if (!answer.ok) throw new Error(answer.error);
    expect(answer.rows.map((r) => [r.station.id, r.freePorts])).toEqual([
      ['ST-A', 0],
      ['ST-B', 1],
    ]);
    expect(answer.rows[0].distanceKm).toBeLessThan(answer.rows[1].distanceKm);
    expect(answer.rows[1].driveMinutes).toBeGreaterThan(0);
    expect(answer.rows[0].price).toBeGreaterThan(0);

    const store = createFleetStore();
    store.setStations(await catalog.list());
    store.flush();
    const r = render(<App store={store} sourceLabel="test" showLag={false} onQuit={() => {}} nearest={catalog.nearest} />);
    await new Promise((res) => setTimeout(res, 50));
    r.stdin.write('n40.7505,-73.9805\r');
    const text = await until(() => frame(r).includes('server search') && frame(r), 'the server answer on screen');
    expect(text).toContain('Nearest stations to 40.7505, -73.9805 (server search; free ports now · Esc closes)');
    expect(text).toMatch(/1\. Alpha Garage\s+0\.\d\d km\s+~\d+ min\s+0 free\s+\$\d\.\d\d\/kWh/);
    expect(text).toMatch(/2\. Bravo Lot\s+\d\.\d\d km\s+~\d+ min\s+1 free/);
    r.unmount();
    store.dispose();
  });

  it('polls: a booking made after the first poll shows up, and an event adjusts occupancy only until the next poll', async () => {
    const store = createFleetStore();
    store.setStations(await catalog.list());
    const stop = pollStationOccupancy(catalog, store, 40);
    try {
      await until(() => (store.flush(), store.getSnapshot().stationTruth === 'live'), 'the first poll');
      expect(occupancy(stationOf(store, 'ST-B'))).toEqual([0, 1, 0]);
      // An event the server never confirmed counts until the next poll says otherwise.
      store.ingest([{ event_id: 'x', event_type: 'booking_confirmed', car_id: 'GHOST', station_id: 'ST-B', timestamp: Date.now() }]);
      store.flush();
      expect(stationOf(store, 'ST-B')!.taken).toBe(1);
      await until(() => (store.flush(), stationOf(store, 'ST-B')!.taken === 0), 'the poll correcting the event');
      expect((await client.requestBooking({ car_id: 'CAR-3', station_id: 'ST-B', battery_level: 30, latitude: 40.79, longitude: -73.96 })).status).toBe('BOOKING_CONFIRMED');
      await until(() => (store.flush(), stationOf(store, 'ST-B')!.taken === 1), 'the new hold');
      expect(store.getSnapshot().feed.items.filter((i) => i.kind === 'note')).toEqual([]); // nothing to say while the server answers
    } finally {
      stop();
      store.dispose();
    }
  });

  it('runTail draws the held ports of a fleet that was busy before tail started', async () => {
    const out = fakeTerminal();
    const result = await runTail({
      sources: { events: quietSource(), stations: serverCatalog(address, token) },
      output: 'tui',
      stdout: out.stdout,
      stderr: fakeTerminal().stdout,
      stdin: fakeStdin(),
      stationPollMs: 50,
      durationSec: 0.8,
    });
    expect(result.reason).toBe('duration');
    const text = strip(out.text());
    expect(text).toMatch(/Stations \(2, [12] full\) live/);
    // The console's numbered list says free/total ports: the one held port leaves 0 of 1 free.
    expect(text).toMatch(/Alpha Garage\s+█{6}\s+0\/1 free\s+q1/);
  });
});

describe('falling back to the stations file and events when live station queries fail', () => {
  const servers: grpc.Server[] = [];
  afterEach(() => servers.splice(0).forEach((s) => s.forceShutdown()));

  /** A server from before the query RPCs: it only streams events. */
  async function olderServer(): Promise<string> {
    const server = new grpc.Server();
    server.addService(loadFleetProto().FleetService.service, { WatchEvents: (call: grpc.ServerWritableStream<unknown, unknown>) => call.end() });
    servers.push(server);
    const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
    return `127.0.0.1:${port}`;
  }

  it('an older server (UNIMPLEMENTED): said once, polling stops, n is answered locally and says why', async () => {
    const address = await olderServer();
    const inner = serverCatalog(address, 'tok');
    let calls = 0;
    const catalog: StationCatalog = { ...inner, live: () => (calls++, inner.live!()) };
    const err = await catalog.live!().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StationsUnavailableError);
    expect(err).toMatchObject({ permanent: true, message: `the server at ${address} has no station queries (an older version)` });

    const store = createFleetStore();
    store.setStations(await catalog.list());
    calls = 0;
    const stop = pollStationOccupancy(catalog, store, 20);
    await new Promise((r) => setTimeout(r, 200));
    stop();
    store.flush();
    expect(calls).toBe(1);
    const notes = store.getSnapshot().feed.items.filter((i) => i.kind === 'note');
    expect(notes).toEqual([expect.objectContaining({ tone: 'warn', text: expect.stringMatching(/^stations: no live occupancy from server .+ \(the server at .+ has no station queries \(an older version\)\); showing the stations file and events$/) })]);
    expect(store.getSnapshot().stationTruth).toBe('events');
    // Events still drive the panel.
    store.ingest([{ event_id: 'b', event_type: 'charging_started', car_id: 'CAR-9', station_id: 'ST-A', timestamp: 1 }]);
    store.flush();
    expect(occupancy(stationOf(store, 'ST-A'))).toEqual([1, 1, 0]);

    const answer = await askNearest('40.7505,-73.9805', { stations: store.getSnapshot().stations, getCar: () => undefined, remote: catalog.nearest });
    expect(answer).toMatchObject({ ok: true, source: 'local', note: expect.stringContaining('has no station queries') });
    if (answer.ok) expect(answer.rows.map((r) => [r.station.id, r.freePorts])).toEqual([['ST-A', 0], ['ST-B', 1]]);
    store.dispose();
  });

  it('an unreachable server: rejects quickly and is asked again (not permanent)', async () => {
    const address = await olderServer();
    servers.splice(0).forEach((s) => s.forceShutdown()); // a port nothing listens on any more
    const catalog = serverCatalog(address, 'tok');
    const started = Date.now();
    const err = await catalog.live!().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StationsUnavailableError);
    expect((err as StationsUnavailableError).permanent).toBe(false);
    expect(Date.now() - started).toBeLessThan(3_500);
    const local = await askNearest('CAR-404', { stations: [], getCar: () => undefined, remote: catalog.nearest });
    expect(local).toMatchObject({ ok: false, error: expect.stringMatching(/^no position seen for CAR-404 yet \(server: .+\)$/) });
  });

  it('an outage is noted once, occupancy falls back to events, and the return of live answers is noted', async () => {
    const row: StationRow = { id: 'ST-A', name: 'Alpha Garage', lat: 40.75, lon: -73.98, ports: 1, free: 0, holds: 1, charging: 0, queueLength: 2, powerKw: 150, pricePerKwh: 0.3 };
    let failing = false;
    const queries: StationQueries = {
      source: 'flaky',
      listStations: async () => {
        if (failing) throw new Error('connection refused');
        return [row];
      },
      nearest: async () => ({ from: { lat: 0, lon: 0 }, stations: [] }),
      close: async () => {},
    };
    let calls = 0;
    const inner = createLiveStationCatalog({ file, label: 'flaky', open: async () => queries });
    const catalog: StationCatalog = { ...inner, live: () => (calls++, inner.live!()) };
    const store = createFleetStore();
    const stop = pollStationOccupancy(catalog, store, 10);
    try {
      await until(() => (store.flush(), store.getSnapshot().stationTruth === 'live'), 'live');
      failing = true;
      const failedAt = calls;
      await until(() => (store.flush(), calls > failedAt + 3 && store.getSnapshot().stationTruth === 'events'), 'several failed polls');
      failing = false;
      await until(() => (store.flush(), store.getSnapshot().stationTruth === 'live'), 'recovery');
      store.flush();
      const notes = store.getSnapshot().feed.items.flatMap((i) => (i.kind === 'note' ? [i.text] : []));
      expect(notes).toEqual(['stations: no live occupancy from flaky (connection refused); showing the stations file and events, asking again', '✓ live station occupancy from flaky again']);
    } finally {
      stop();
      store.dispose();
    }
  });

  it('a server that knows no stations (e.g. none loaded into Redis) counts as no live answer', async () => {
    const empty: StationQueries = { source: 'redis', listStations: async () => [], nearest: async () => ({ from: { lat: 40.75, lon: -73.98 }, stations: [] }), close: async () => {} };
    const catalog = createLiveStationCatalog({ file, label: 'redis', open: async () => empty });
    const store = createFleetStore();
    store.setStations(await catalog.list());
    const stop = pollStationOccupancy(catalog, store, 1_000);
    await until(() => (store.flush(), store.getSnapshot().feed.items.length > 0), 'the note');
    stop();
    expect(store.getSnapshot().feed.items[0]).toMatchObject({ kind: 'note', text: expect.stringContaining('(redis knows no stations)') });
    const answer = await askNearest('40.75,-73.98', { stations: store.getSnapshot().stations, getCar: () => undefined, remote: catalog.nearest });
    expect(answer).toMatchObject({ ok: true, source: 'local', note: 'the server knows no stations; computed here from the station list' });
    store.dispose();
  });

  it('a configuration that cannot work (isPermanent) is not opened again', async () => {
    let opens = 0;
    const catalog = createLiveStationCatalog({
      file,
      label: 'redis',
      open: async () => {
        opens++;
        throw new Error('GREENLANE_REDIS_URL is not set');
      },
      isPermanent: () => true,
    });
    for (let i = 0; i < 3; i++) await expect(catalog.live!()).rejects.toMatchObject({ permanent: true, message: 'GREENLANE_REDIS_URL is not set' });
    expect(opens).toBe(1);
  });
});

/** Enough of a TTY for Ink: size, write, resize events. */
function fakeTerminal() {
  let text = '';
  const stdout = Object.assign(new EventEmitter(), {
    columns: 140,
    rows: 45,
    isTTY: true,
    write: (chunk: string) => ((text += chunk), true),
  }) as unknown as NodeJS.WriteStream;
  return { stdout, text: () => text };
}

function fakeStdin(): NodeJS.ReadStream {
  return Object.assign(new EventEmitter(), {
    isTTY: true,
    setEncoding() {},
    setRawMode() {},
    resume() {},
    pause() {},
    ref() {},
    unref() {},
    read: () => null,
  }) as unknown as NodeJS.ReadStream;
}
