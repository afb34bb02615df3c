import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../observability/logger.js';
import type { EventBus, Subscription } from '../ports/event-bus.js';
import { may } from '../domain/principals.js';
import { permissionDenied, type Authenticate } from './auth.js';
import type { FleetEventMsg, WatchRequestMsg } from './proto.js';
import { statusError } from './server.js';
import { toFleetEventMsg } from './telemetry-codec.js';

export interface WatchDeps {
  authenticate: Authenticate;
  bus: EventBus;
  /** The namespaced fleet-events topic. */
  topic: string;
  logger: Logger;
  /** Open watches, by their close function (stop() closes them all). */
  watchers: Set<() => void>;
}

/**
 * WatchEvents: a fresh consumer group (deleted when the call ends) from the end of the topic, filtered by event type and car,
 * honouring the client's flow control. Response headers are sent once the subscription is live.
 */
export async function watchEvents(deps: WatchDeps, call: grpc.ServerWritableStream<WatchRequestMsg, FleetEventMsg>): Promise<void> {
  const auth = deps.authenticate(call);
  const denied = !auth.ok ? auth.error : !may(auth.principal, 'watch') ? permissionDenied(auth.principal, 'watch fleet events') : null;
  if (denied) {
    call.emit('error', denied);
    return;
  }
  const { bus, topic, logger, watchers } = deps;
  const types = new Set(call.request.event_types ?? []);
  const cars = new Set(call.request.car_ids ?? []);
  let sub: Subscription | undefined;
  let done = false;
  let wake: (() => void) | undefined;
  const close = () => {
    if (done) return;
    done = true;
    watchers.delete(close);
    wake?.();
    if (call.writable) call.end();
    sub?.stop().catch((err) => logger.warn({ err }, 'ingestion: stopping a watch subscription failed'));
  };
  watchers.add(close);
  call.on('cancelled', close);
  call.on('error', close);
  call.on('close', close);
  try {
    sub = await bus.subscribe({
      topic,
      groupId: `watch-${randomUUID()}`,
      fromBeginning: false,
      // One group per call: deleted from the broker when the watch ends, instead of accumulating.
      ephemeral: true,
      handleBatch: async (records) => {
        for (const r of records) {
          if (done) return;
          const msg = toFleetEventMsg(r.value);
          if (!msg || (types.size && !types.has(msg.event_type)) || (cars.size && !cars.has(msg.car_id))) continue;
          if (!call.write(msg)) await new Promise<void>((resolve) => ((wake = resolve), call.once('drain', resolve)));
        }
      },
    });
  } catch (err) {
    logger.error({ err }, 'ingestion: watch subscription failed');
    if (!done) call.emit('error', statusError(grpc.status.UNAVAILABLE, `cannot subscribe to ${topic}: ${(err as Error).message}`));
    return;
  }
  if (done) await sub.stop();
  // Response headers tell the client the subscription is live, so it can start producing.
  else call.sendMetadata(new grpc.Metadata());
}
