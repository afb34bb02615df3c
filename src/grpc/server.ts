import * as grpc from '@grpc/grpc-js';
import { PortInUseError } from '../errors.js';

/** Keepalive only; the limits (message size, streams, idle connections) come from src/grpc/limits.ts. */
export const SERVER_OPTIONS: grpc.ServerOptions = {
  'grpc.keepalive_time_ms': 60_000,
  'grpc.keepalive_timeout_ms': 20_000,
};

/**
 * Binds with `credentials` (insecure unless given: see src/grpc/tls.ts); EADDRINUSE becomes a
 * PortInUseError naming the flag to change. Returns the bound port.
 */
export function bindServer(server: grpc.Server, host: string, port: number, flag = '--grpc-port', credentials = grpc.ServerCredentials.createInsecure()): Promise<number> {
  const address = host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (err, bound) => {
      if (!err) return resolve(bound);
      reject(/EADDRINUSE/.test(err.message) ? new PortInUseError('gRPC ingestion', port, flag) : err);
    });
  });
}

export function statusError(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}

/** Graceful shutdown with a deadline: waits for calls to finish, then forces. */
export function shutdownServer(server: grpc.Server, deadlineMs = 5_000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, deadlineMs);
    timer.unref();
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
