import * as grpc from '@grpc/grpc-js';

/** What one connection and one call may cost the server (config keys in src/config/schema.ts). */
export interface GrpcLimits {
  /** Largest message received, bytes: bigger ones end the call with RESOURCE_EXHAUSTED. */
  maxMessageBytes: number;
  /** Most cars in one CarStatusBatch: more ends the stream with INVALID_ARGUMENT. */
  maxBatchCars: number;
  /** Concurrent calls (HTTP/2 streams) per connection. */
  maxStreams: number;
  /** A connection with no call in progress is sent GOAWAY after this long. */
  idleTimeoutMs: number;
}

export const DEFAULT_GRPC_LIMITS: GrpcLimits = { maxMessageBytes: 1024 * 1024, maxBatchCars: 5000, maxStreams: 1000, idleTimeoutMs: 30_000 };

/**
 * Server channel options enforcing the limits. grpc-js has no per-connection auth hook: a call
 * without a valid token ends at once (UNAUTHENTICATED), so a connection whose calls are all refused,
 * or that never starts one (an HTTP/2 connection left idle), has no call in progress and
 * max_connection_idle_ms closes it after idleTimeoutMs. Pings do not count as activity there.
 * Not covered (grpc-js exposes no hook): a TCP connection that never sends the HTTP/2 preface, and a
 * TLS handshake left unfinished (Node closes it after its default 120 s).
 */
export function limitServerOptions(limits: GrpcLimits): grpc.ServerOptions {
  return {
    'grpc.max_receive_message_length': limits.maxMessageBytes,
    'grpc.max_concurrent_streams': limits.maxStreams,
    'grpc.max_connection_idle_ms': limits.idleTimeoutMs,
  };
}

const BATCH_METHOD = '/fleet.FleetService/StreamTelemetryBatch';

/**
 * Ends a StreamTelemetryBatch with INVALID_ARGUMENT as soon as one batch holds more than maxBatchCars
 * cars; nothing of that batch is ingested (earlier batches were). Closing, rather than answering and
 * going on, makes a misconfigured client fail loudly instead of silently losing most of its fleet.
 */
export function batchLimitInterceptor(maxBatchCars: number): grpc.ServerInterceptor {
  return (method, call) => {
    if (method.path !== BATCH_METHOD) return new grpc.ServerInterceptingCall(call);
    let refused = false;
    const intercepting: grpc.ServerInterceptingCall = new grpc.ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMessage: (message: { cars?: unknown[] }, pass) => {
            if (refused) return;
            const n = message?.cars?.length ?? 0;
            if (n <= maxBatchCars) return pass(message);
            refused = true;
            intercepting.sendStatus({
              code: grpc.status.INVALID_ARGUMENT,
              details: `CarStatusBatch of ${n} cars exceeds the limit of ${maxBatchCars} (GREENLANE_MAX_BATCH_CARS): send smaller batches`,
            });
          },
        }),
    });
    return intercepting;
  };
}

