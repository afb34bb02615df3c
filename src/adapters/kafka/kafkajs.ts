// kafkajs for this program's Kafka adapters: the package's exports, with one fix applied first.
//
// kafkajs 2.2.4 schedules its request queue's next check `throttledUntil - Date.now()` ms ahead
// (kafkajs/src/network/requestQueue/index.js, scheduleCheckPendingRequests); unthrottled,
// throttledUntil is -1, so the delay is minus the current time. Node treats a negative delay as 1 ms,
// and Node 24 also prints a TimeoutNegativeWarning for it on every client connection (kafkajs issue
// #1751, unfixed in a release). The same method is put back here with the delay clamped at 0 (which
// Node runs as 1 ms, as before): behaviour unchanged, no warning.
// @ts-expect-error: kafkajs ships no types for its internal modules
import RequestQueueModule from 'kafkajs/src/network/requestQueue/index.js';

/** The fields of kafkajs's RequestQueue the method reads. */
export interface RequestQueueLike {
  throttledUntil: number;
  throttleCheckTimeoutId: ReturnType<typeof setTimeout> | null;
  pending: unknown[];
  checkPendingRequests(): void;
}

/** kafkajs's CHECK_PENDING_REQUESTS_INTERVAL (kafkajs/src/network/requestQueue/index.js). */
const CHECK_PENDING_REQUESTS_INTERVAL = 10;

/** The delay kafkajs computes, never negative. */
export function pendingCheckDelay(throttledUntil: number, pending: number, now = Date.now()): number {
  const untilThrottleEnds = throttledUntil - now;
  if (pending > 0) return untilThrottleEnds > 0 ? untilThrottleEnds : CHECK_PENDING_REQUESTS_INTERVAL;
  return Math.max(0, untilThrottleEnds);
}

/** kafkajs's scheduleCheckPendingRequests, with the delay clamped. */
export function scheduleCheckPendingRequests(this: RequestQueueLike): void {
  if (this.throttleCheckTimeoutId) return;
  this.throttleCheckTimeoutId = setTimeout(() => {
    this.throttleCheckTimeoutId = null;
    this.checkPendingRequests();
  }, pendingCheckDelay(this.throttledUntil, this.pending.length));
}

const RequestQueue = RequestQueueModule as { prototype: { scheduleCheckPendingRequests?: unknown } };
// The method being replaced must be the one described above; a kafkajs that changed it is left alone.
const original = RequestQueue.prototype.scheduleCheckPendingRequests;
if (typeof original === 'function' && /this\.throttledUntil - Date\.now\(\)/.test(String(original))) {
  RequestQueue.prototype.scheduleCheckPendingRequests = scheduleCheckPendingRequests;
}

/** True when the clamped method is the one kafkajs's request queues use. */
export function requestQueueClamped(): boolean {
  return RequestQueue.prototype.scheduleCheckPendingRequests === scheduleCheckPendingRequests;
}

export * from 'kafkajs';
