import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRedisReservations } from '../../src/adapters/redis/redis-reservations.js';
import { ConfigError } from '../../src/errors.js';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/observability/logger.js';
import { openFleetQueries } from '../../src/app/operator-queries.js';
import { loadStationsIntoRedis } from '../../src/app/stations-view.js';
import { pollStationOccupancy } from '../../src/tui/run-tail.js';
import { createLiveStationCatalog } from '../../src/tui/sources/live-stations.js';
import type { StationCatalog } from '../../src/tui/sources/types.js';
import { createFleetStore } from '../../src/tui/store/fleet-store.js';
import { askNearest } from '../../src/tui/store/nearest.js';
import { describeWithEngine, engineProbe, infra, testNamespace } from '../helpers/infra.js';
import { TINY_STATIONS } from '../helpers/query-stack.js';

/**
 * External mode (tail on Kafka): station occupancy and nearest answers come straight from Redis
 * through openFleetQueries, so the panel shows holds made before tail started, with no server.
 */
const probe = engineProbe('redis');

const namespace = testNamespace('tail');
const cwd = mkdtempSync(join(tmpdir(), 'gl-tail-redis-'));
const external = (env: Record<string, string>) => loadConfig({ env: { GREENLANE_KAFKA_BROKERS: '127.0.0.1:1', GREENLANE_NAMESPACE: namespace, GREENLANE_GRID_URL: 'http://127.0.0.1:1', ...env }, cwd });
const file: StationCatalog = { list: async () => TINY_STATIONS };
const redisCatalog = (loaded: ReturnType<typeof loadConfig>) =>
  createLiveStationCatalog({ file, label: 'redis', open: () => openFleetQueries(loaded, { logger: silentLogger, need: ['redis'] }), isPermanent: (err) => err instanceof ConfigError });

await describeWithEngine('redis', probe, 'tail station truth from Redis (external mode)', () => {
  const loaded = external({ GREENLANE_REDIS_URL: infra.redisUrl });
  let catalog: StationCatalog;

  beforeAll(async () => {
    expect(loaded.mode).toBe('external');
    await loadStationsIntoRedis(loaded, silentLogger, TINY_STATIONS);
    const reservations = await createRedisReservations({ url: infra.redisUrl, namespace });
    try {
      const base = { holdMs: 600_000, nowMs: Date.now(), battery: 20, critical: false, candidates: [{ stationId: 'ST-A', score: 1 }] };
      expect((await reservations.reserve({ ...base, bookingId: 'b1', carId: 'CAR-1' })).status).toBe('confirmed');
      expect((await reservations.reserve({ ...base, bookingId: 'b2', carId: 'CAR-2' })).status).toBe('queued');
    } finally {
      await reservations.close();
    }
    catalog = redisCatalog(loaded);
  });

  afterAll(async () => {
    await catalog?.close?.();
    const raw = new Redis(infra.redisUrl);
    const keys = await raw.keys(`${namespace}:*`);
    if (keys.length) await raw.del(...keys);
    raw.disconnect();
  });

  it('polls holds and the queue into the store, and answers nearest with free ports', async () => {
    const store = createFleetStore();
    store.setStations(await catalog.list());
    const stop = pollStationOccupancy(catalog, store, 50);
    try {
      const end = Date.now() + 10_000;
      while ((store.flush(), store.getSnapshot().stationTruth !== 'live') && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      const st = Object.fromEntries(store.getSnapshot().stations.map((s) => [s.id, [s.taken, s.ports, s.queue]]));
      expect(st).toEqual({ 'ST-A': [1, 1, 1], 'ST-B': [0, 1, 0] });
      expect(store.getSnapshot().feed.items).toEqual([]);
    } finally {
      stop();
      store.dispose();
    }
    const answer = await askNearest('40.7505,-73.9805', { stations: [], getCar: () => undefined, remote: catalog.nearest });
    expect(answer).toMatchObject({ ok: true, source: 'server' });
    if (answer.ok) expect(answer.rows.map((r) => [r.station.id, r.freePorts])).toEqual([['ST-A', 0], ['ST-B', 1]]);
  });

  it('without GREENLANE_REDIS_URL: a permanent failure, said once, file and events only', async () => {
    const noRedis = redisCatalog(external({}));
    const store = createFleetStore();
    const stop = pollStationOccupancy(noRedis, store, 20);
    await new Promise((r) => setTimeout(r, 150));
    stop();
    store.flush();
    const notes = store.getSnapshot().feed.items.flatMap((i) => (i.kind === 'note' ? [i.text] : []));
    expect(notes).toEqual([expect.stringMatching(/^stations: no live occupancy from redis \(External mode reads stations and bookings from Redis: GREENLANE_REDIS_URL is not set\); showing the stations file and events$/)]);
    store.dispose();
  });
});
