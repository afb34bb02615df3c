import { afterAll, beforeAll, expect, it } from 'vitest';
import { TOPIC_EVENTS, topicName, type FleetEvent } from '../../src/domain/events.js';
import { createFleetClient, type FleetClient } from '../../src/grpc/client.js';
import { openEventLog } from '../../src/sim/herd-event-log.js';
import type { Stack } from '../../src/app/stack.js';
import { eventually, startTestStack } from '../helpers/query-stack.js';

/**
 * The live herd reads its report from the server's event log (WatchEvents). Telemetry is most of
 * that topic; read with it, the watch fell minutes behind on a loaded machine and the report
 * counted 148 of 1,000 cars charged while the server had completed all 1,000. The log asks for
 * booking events only, and settles until it has caught up before the report is read.
 */
let stack: Stack;
let client: FleetClient;

beforeAll(async () => {
  const s = await startTestStack();
  stack = s.stack;
  client = createFleetClient(s.address, s.token, { separateConnection: true });
}, 60_000);

afterAll(async () => {
  client?.close();
  await stack?.stop({ drainMs: 0 });
});

it('receives booking events only, and settles once they stop', async () => {
  const log = await openEventLog(client, (carId) => carId.startsWith('HERD-T-'));
  const t = Date.UTC(2026, 10, 30, 12);
  const telemetry: FleetEvent[] = Array.from({ length: 2000 }, (_, i) => ({ event_id: `t-${i}`, event_type: 'telemetry', car_id: `HERD-T-${i % 20}`, timestamp: t + i, lat: 40.75, lon: -73.98, battery: 50, velocity: 10 }));
  const bookings: FleetEvent[] = [
    { event_id: 'b-1', event_type: 'booking_confirmed', car_id: 'HERD-T-1', timestamp: t, booking_id: 'bk-1', station_id: 'ST-A' },
    { event_id: 'b-2', event_type: 'charging_started', car_id: 'HERD-T-1', timestamp: t + 1, booking_id: 'bk-1', station_id: 'ST-A' },
    { event_id: 'b-3', event_type: 'charging_completed', car_id: 'HERD-T-1', timestamp: t + 2, booking_id: 'bk-1', station_id: 'ST-A' },
    { event_id: 'b-4', event_type: 'booking_queued', car_id: 'OTHER-1', timestamp: t + 3, booking_id: 'bk-2' },
  ];
  const records = [...telemetry.slice(0, 1000), ...bookings, ...telemetry.slice(1000)].map((e) => ({ key: e.car_id, value: JSON.stringify(e) }));
  await stack.engines.bus!.publish(topicName('', TOPIC_EVENTS), records);
  await eventually(async () => log.received >= 4);
  const t0 = Date.now();
  await log.settle(300, 5_000);
  expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
  log.close();
  expect(log.received).toBe(4);
  expect(log.own.map((e) => e.event_type)).toEqual(['booking_confirmed', 'charging_started', 'charging_completed']);
  expect(log.others.map((e) => e.car_id)).toEqual(['OTHER-1']);
  expect([...log.charged]).toEqual(['HERD-T-1']);
}, 30_000);
