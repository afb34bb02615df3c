import { hasRole } from '../domain/principals.js';
import { createPrincipalResolver, type Credentials } from '../grpc/auth.js';
import type { WebAuthResult } from './hub.js';

/**
 * The web view's credential check: the gRPC server's principal resolver (constant-time digests,
 * car tokens against the secret), and only an operator may watch the fleet and act on it.
 */
export function operatorAuthenticator(creds: Credentials, now?: () => number): (token: string) => WebAuthResult {
  const resolve = createPrincipalResolver(creds, now);
  return (token) => {
    if (!token) return { ok: false, reason: 'missing token' };
    const p = resolve(token);
    if (typeof p === 'string') return { ok: false, reason: p.replace('x-api-token', 'token') };
    if (!hasRole(p, 'operator')) return { ok: false, reason: `${p.name} is not an operator` };
    return { ok: true, name: p.name };
  };
}
