import * as grpc from '@grpc/grpc-js';
import { looksLikeCarToken, TokenSet, tokenFingerprint, verifyCarToken, type Principal, type Role } from '../domain/principals.js';
import { statusError } from './server.js';

/** The tokens a server accepts: fleet and operator tokens from configuration, car tokens derived from the secret. */
export interface Credentials {
  /** GREENLANE_API_TOKENS: fleet principals (the original single token). */
  fleet: readonly string[];
  /** GREENLANE_OPERATOR_TOKENS. */
  operator?: readonly string[];
  /** GREENLANE_TOKEN_SECRET: car tokens are accepted only when set. */
  tokenSecret?: string;
}

export type AuthOutcome = { ok: true; principal: Principal } | { ok: false; error: grpc.ServiceError };

/** The check every FleetService RPC runs first: the principal, or the refusal to send. */
export type Authenticate = (call: { metadata: grpc.Metadata }) => AuthOutcome;

export interface AuthOptions {
  /** Counts refusals (the auth-failures metric). */
  onFailure?(): void;
  /** While true, authenticated calls are refused with UNAVAILABLE (the server is shutting down). */
  isStopping?(): boolean;
  /** Clock for car-token expiry (tests). */
  now?(): number;
}

/**
 * Resolves x-api-token to a principal, or null with the reason. Configured tokens are compared by
 * HMAC digest in constant time (no length leak); a `car.` token is verified against the secret.
 */
export function createPrincipalResolver(creds: Credentials, now: () => number = Date.now): (token: string) => Principal | string {
  const entries: [string, { role: Role; name: string }][] = [
    ...creds.fleet.map((t): [string, { role: Role; name: string }] => [t, { role: 'fleet', name: `fleet:${tokenFingerprint(t)}` }]),
    ...(creds.operator ?? []).map((t): [string, { role: Role; name: string }] => [t, { role: 'operator', name: `operator:${tokenFingerprint(t)}` }]),
  ];
  const known = new TokenSet(entries);
  return (token) => {
    const matches = known.match(token);
    if (matches.length) {
      const roles = new Set(matches.map((m) => m.role));
      // A token that is both fleet and operator (the embedded dev token) is named by its fleet identity.
      return { name: (matches.find((m) => m.role === 'fleet') ?? matches[0]!).name, roles };
    }
    if (creds.tokenSecret && looksLikeCarToken(token)) {
      const v = verifyCarToken(creds.tokenSecret, token, now());
      if (v.ok) return { name: `car:${v.claims.carId}`, roles: new Set<Role>(['car']), carId: v.claims.carId };
      if (v.reason === 'expired') return 'expired x-api-token';
    }
    return 'invalid x-api-token';
  };
}

/** UNAUTHENTICATED without a valid x-api-token; UNAVAILABLE while shutting down. */
export function createAuthenticator(creds: Credentials | readonly string[], opts: AuthOptions = {}): Authenticate {
  const c: Credentials = Array.isArray(creds) ? { fleet: creds as readonly string[] } : (creds as Credentials);
  if (!c.fleet.length && !c.operator?.length && !c.tokenSecret) throw new Error('at least one API token (or a token secret) is required');
  const resolve = createPrincipalResolver(c, opts.now);
  const refuse = (reason: string): AuthOutcome => {
    opts.onFailure?.();
    return { ok: false, error: statusError(grpc.status.UNAUTHENTICATED, reason) };
  };
  return (call) => {
    const presented = call.metadata.get('x-api-token')[0];
    if (presented === undefined || presented === '') return refuse('missing x-api-token');
    const token = Buffer.isBuffer(presented) ? presented.toString('utf8') : String(presented);
    const principal = resolve(token);
    if (typeof principal === 'string') return refuse(principal);
    if (opts.isStopping?.()) return { ok: false, error: statusError(grpc.status.UNAVAILABLE, 'ingestion is shutting down') };
    return { ok: true, principal };
  };
}

/** PERMISSION_DENIED naming who was refused what. */
export function permissionDenied(principal: Principal, what: string): grpc.ServiceError {
  return statusError(grpc.status.PERMISSION_DENIED, `${principal.name} may not ${what}`);
}
