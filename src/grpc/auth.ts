import { timingSafeEqual } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { statusError } from './server.js';

/**
 * Why a call is not authenticated, or null when it is. Compares in constant time against every
 * accepted token (timingSafeEqual needs equal lengths, so unequal lengths are a plain mismatch).
 */
export function authFailure(metadata: grpc.Metadata, tokens: readonly Buffer[]): string | null {
  const presented = metadata.get('x-api-token')[0];
  if (presented === undefined || presented === '') return 'missing x-api-token';
  const given = Buffer.isBuffer(presented) ? presented : Buffer.from(String(presented));
  let ok = false;
  for (const token of tokens) if (token.length === given.length && timingSafeEqual(token, given)) ok = true;
  return ok ? null : 'invalid x-api-token';
}

/** The check every FleetService RPC runs first: the refusal to send, or null to go ahead. */
export type Authenticate = (call: { metadata: grpc.Metadata }) => grpc.ServiceError | null;

export interface AuthOptions {
  /** Counts refusals (the auth-failures metric). */
  onFailure?(): void;
  /** While true, authenticated calls are refused with UNAVAILABLE (the server is shutting down). */
  isStopping?(): boolean;
}

/** UNAUTHENTICATED without one of `tokens` in x-api-token; UNAVAILABLE while shutting down. */
export function createAuthenticator(tokens: readonly string[], opts: AuthOptions = {}): Authenticate {
  if (!tokens.length) throw new Error('at least one API token is required');
  const tokenBufs = tokens.map((t) => Buffer.from(t));
  return (call) => {
    const failure = authFailure(call.metadata, tokenBufs);
    if (failure) {
      opts.onFailure?.();
      return statusError(grpc.status.UNAUTHENTICATED, failure);
    }
    if (opts.isStopping?.()) return statusError(grpc.status.UNAVAILABLE, 'ingestion is shutting down');
    return null;
  };
}
