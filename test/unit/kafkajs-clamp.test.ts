// kafkajs's request queue scheduled its pending-request check with a negative delay (minus the
// current time) when not throttled; Node 24 prints a TimeoutNegativeWarning for each.
import { afterEach, expect, it, vi } from 'vitest';
// @ts-expect-error: kafkajs ships no types for its internal modules
import RequestQueue from 'kafkajs/src/network/requestQueue/index.js';
import { pendingCheckDelay, requestQueueClamped, type RequestQueueLike } from '../../src/adapters/kafka/kafkajs.js';

afterEach(() => vi.restoreAllMocks());

it('never schedules a negative delay, and keeps kafkajs’s delays otherwise', () => {
  const now = 1_800_000_000_000;
  expect(pendingCheckDelay(-1, 0, now)).toBe(0); // never throttled: was -now
  expect(pendingCheckDelay(now - 5_000, 0, now)).toBe(0); // throttle over: was -5000
  expect(pendingCheckDelay(now + 250, 0, now)).toBe(250); // throttled: until it ends
  expect(pendingCheckDelay(now + 250, 3, now)).toBe(250);
  expect(pendingCheckDelay(-1, 3, now)).toBe(10); // requests waiting: kafkajs's interval
});

it("kafkajs's request queues use the clamped method: the timer they set is never negative", () => {
  expect(requestQueueClamped()).toBe(true);
  const delays: number[] = [];
  const real = globalThis.setTimeout;
  vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: () => void, ms?: number) => {
    delays.push(ms ?? 0);
    return real(() => {}, 0);
  }) as typeof setTimeout);
  const checked = vi.fn();
  const queue: RequestQueueLike = { throttledUntil: -1, throttleCheckTimeoutId: null, pending: [], checkPendingRequests: checked };
  (RequestQueue as { prototype: { scheduleCheckPendingRequests(this: RequestQueueLike): void } }).prototype.scheduleCheckPendingRequests.call(queue);
  expect(delays).toEqual([0]);
  expect(queue.throttleCheckTimeoutId).not.toBeNull();
  // A check already scheduled is not scheduled twice.
  (RequestQueue as { prototype: { scheduleCheckPendingRequests(this: RequestQueueLike): void } }).prototype.scheduleCheckPendingRequests.call(queue);
  expect(delays).toEqual([0]);
});
