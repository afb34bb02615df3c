import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { openEventBus } from '../../src/app/engines.js';
import { dropNamespace } from '../../src/app/namespace-cleanup.js';
import { ensureEventTopics } from '../../src/app/startup.js';
import { startWebView, type WebView } from '../../src/app/web-view.js';
import { loadConfig, type LoadedConfig } from '../../src/config/load.js';
import { TOPIC_EVENTS, topicName } from '../../src/domain/events.js';
import { silentLogger } from '../../src/observability/logger.js';
import type { EventBus } from '../../src/ports/event-bus.js';
import type { CarTuple, ServerMsg } from '../../src/web/protocol.js';
import { describeWithEngine, engineEnv, engineProbe, testNamespace } from '../helpers/infra.js';

/** The web view in external mode: the hub fed from Kafka (`greenlane web --source kafka`, and `up` on engines). */
await describeWithEngine('kafka', engineProbe('kafka'), 'web view fed by Kafka', () => {
  const ns = testNamespace('web');
  const dataDir = mkdtempSync(join(tmpdir(), 'gl-web-int-'));
  const OPERATOR = 'web-int-operator-token-0123456789';
  const FLEET = 'web-int-fleet-token-0123456789';
  let loaded: LoadedConfig;
  let web: WebView | undefined;
  let bus: EventBus | undefined;

  beforeAll(async () => {
    const env = {
      ...engineEnv(ns),
      GREENLANE_DATA_DIR: dataDir,
      GREENLANE_API_TOKENS: FLEET,
      GREENLANE_OPERATOR_TOKENS: OPERATOR,
    };
    loaded = loadConfig({ env, cwd: dataDir });
    await ensureEventTopics(loaded.config, silentLogger);
    bus = await openEventBus(loaded.config, { logger: silentLogger, clientId: 'web-int' });
    web = await startWebView(loaded, { logger: silentLogger, port: 0, host: '127.0.0.1', source: 'kafka' });
  }, 60_000);

  afterAll(async () => {
    await web?.stop();
    await bus?.close();
    await dropNamespace(loaded, ns, silentLogger);
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  /** Opens /ws, authenticates, and collects every frame. */
  function connect(token: string) {
    const frames: ServerMsg[] = [];
    const ws = new WebSocket(`${web!.url.replace('http', 'ws')}/ws`);
    ws.on('open', () => ws.send(JSON.stringify({ type: 'auth', token })));
    ws.on('message', (data) => frames.push(JSON.parse(String(data))));
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    return { ws, frames, closed };
  }

  it('refuses a fleet (non-operator) token', async () => {
    const c = connect(FLEET);
    expect(await c.closed).toBe(4401);
    expect(c.frames[0]).toMatchObject({ type: 'auth_failed' });
  });

  it('shows a car published to the namespace topic, with Kafka as its source', async () => {
    const c = connect(OPERATOR);
    const seen = (): CarTuple | undefined => {
      for (const f of c.frames) {
        const cars = f.type === 'snapshot' || f.type === 'delta' ? f.cars : [];
        const car = cars.find((t) => t[0] === 'WEB-INT-1');
        if (car) return car;
      }
      return undefined;
    };
    // The hub's consumer starts at the end of the topic: keep publishing until it has joined.
    const deadline = Date.now() + 60_000;
    let n = 0;
    while (!seen() && Date.now() < deadline) {
      n++;
      const event = { event_id: `web-int-${n}`, event_type: 'telemetry', car_id: 'WEB-INT-1', lat: 40.75, lon: -73.98, battery: 12, velocity: 0, timestamp: Date.now() };
      await bus!.publish(topicName(ns, TOPIC_EVENTS), [{ key: event.car_id, value: JSON.stringify(event) }]);
      await new Promise((r) => setTimeout(r, 500));
    }
    const car = seen();
    expect(car, `frames: ${JSON.stringify(c.frames).slice(0, 500)}`).toBeDefined();
    expect(car![3]).toBe(12);
    const snapshot = c.frames.find((f) => f.type === 'snapshot');
    expect(snapshot && snapshot.type === 'snapshot' && snapshot.kpis.source).toMatch(/kafka/i);
    // The critical list carries it (battery < 15 %, src/domain/battery.ts).
    await expect.poll(() => c.frames.some((f) => (f.type === 'delta' || f.type === 'snapshot') && f.critical.some((t) => t[0] === 'WEB-INT-1')), { timeout: 10_000 }).toBe(true);
    c.ws.close();
  }, 90_000);
});
