import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { CAR_ID_PATTERN } from './telemetry.js';

/**
 * Who is calling: every x-api-token resolves to one principal (docs/SECURITY.md).
 * - `car`: one car, named in its derived token; may stream and book/cancel for that car only.
 * - `fleet`: a fleet's cars (GREENLANE_API_TOKENS; the original simulator's single token). Trusted for
 *   every car it streams; one shared fleet token is therefore trusted for all the cars using it.
 * - `operator`: queries, WatchEvents, books for any car, cancels any booking (GREENLANE_OPERATOR_TOKENS).
 * The embedded dev token is both fleet and operator.
 */
export type Role = 'car' | 'fleet' | 'operator';

export interface Principal {
  /** Stable, non-secret name for logs and ownership: `car:CAR-001`, `fleet:1a2b3c4d`, `operator:…`. */
  readonly name: string;
  readonly roles: ReadonlySet<Role>;
  /** Set for a car principal: the only car id it speaks for. */
  readonly carId?: string;
}

export const hasRole = (p: Principal, role: Role): boolean => p.roles.has(role);

// ---------------------------------------------------------------------------------------------
// Car tokens: car.<carId>.<expiry unix s, 0 = none>.<base64url HMAC-SHA256(secret, "car.<carId>.<expiry>")>
// Derived from the server secret, so verifying one needs no lookup and no table of cars.
// ---------------------------------------------------------------------------------------------

export const CAR_TOKEN_PREFIX = 'car.';
/** Shortest token secret accepted (bytes of text): 32, e.g. `openssl rand -hex 32`. */
export const MIN_TOKEN_SECRET_LENGTH = 32;

export interface CarTokenClaims {
  carId: string;
  /** Unix ms after which the token is refused; 0 = never. */
  expiresAt: number;
}

export type CarTokenResult = { ok: true; claims: CarTokenClaims } | { ok: false; reason: 'malformed' | 'bad_signature' | 'expired' };

function mac(secret: string, payload: string): Buffer {
  return createHmac('sha256', secret).update(payload).digest();
}

/** Issues a car token; `expiresAt` in Unix ms (0 or undefined: no expiry; rounded up to the second). */
export function issueCarToken(secret: string, carId: string, expiresAt = 0): string {
  if (!CAR_ID_PATTERN.test(carId)) throw new Error(`car id must be 1–64 characters of A-Z a-z 0-9 _ - (got ${JSON.stringify(carId)})`);
  if (secret.length < MIN_TOKEN_SECRET_LENGTH) throw new Error(`the token secret must be at least ${MIN_TOKEN_SECRET_LENGTH} characters`);
  const exp = expiresAt > 0 ? Math.ceil(expiresAt / 1000) : 0;
  const payload = `car.${carId}.${exp}`;
  return `${payload}.${mac(secret, payload).toString('base64url')}`;
}

export const looksLikeCarToken = (token: string): boolean => token.startsWith(CAR_TOKEN_PREFIX);

/** Verifies a car token against the secret at `nowMs`: signature (constant time) first, then expiry. */
export function verifyCarToken(secret: string, token: string, nowMs: number): CarTokenResult {
  const parts = token.split('.');
  if (parts.length !== 4 || parts[0] !== 'car') return { ok: false, reason: 'malformed' };
  const [, carId, exp, sig] = parts as [string, string, string, string];
  if (!CAR_ID_PATTERN.test(carId) || !/^\d{1,12}$/.test(exp) || !/^[A-Za-z0-9_-]{43}$/.test(sig)) return { ok: false, reason: 'malformed' };
  const expected = mac(secret, `car.${carId}.${exp}`);
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad_signature' };
  const expiresAt = Number(exp) * 1000;
  if (expiresAt > 0 && nowMs >= expiresAt) return { ok: false, reason: 'expired' };
  return { ok: true, claims: { carId, expiresAt } };
}

// ---------------------------------------------------------------------------------------------
// Static tokens (fleet, operator): compared in constant time without leaking their length.
// ---------------------------------------------------------------------------------------------

/**
 * A set of configured secrets compared by HMAC digest: both sides are hashed under a per-process
 * random key, so every comparison is between 32-byte digests (timingSafeEqual on equal lengths) and
 * neither a token's content nor its length shows in the timing. Every entry is compared (no early exit).
 */
export class TokenSet<T> {
  private readonly key = randomBytes(32);
  private readonly entries: { digest: Buffer; value: T }[];

  constructor(tokens: Iterable<readonly [string, T]>) {
    this.entries = [...tokens].map(([token, value]) => ({ digest: this.digest(token), value }));
  }

  get size(): number {
    return this.entries.length;
  }

  private digest(token: string | Buffer): Buffer {
    return createHmac('sha256', this.key).update(token).digest();
  }

  /** Every value whose token equals `presented`. */
  match(presented: string | Buffer): T[] {
    const d = this.digest(presented);
    const found: T[] = [];
    for (const e of this.entries) if (timingSafeEqual(e.digest, d)) found.push(e.value);
    return found;
  }
}

/** A short, non-secret fingerprint of a configured token (names principals in logs). */
export function tokenFingerprint(token: string): string {
  return createHmac('sha256', 'greenlane-principal-name').update(token).digest('hex').slice(0, 8);
}

// ---------------------------------------------------------------------------------------------
// What each principal may do.
// ---------------------------------------------------------------------------------------------

/** The RPCs a principal may call, beyond streaming and booking (checked per car below). */
export type Capability = 'stream' | 'stations' | 'read_car' | 'read_fleet' | 'watch';

/**
 * - car: stream (own id), stations, its own car state.
 * - fleet: stream, stations, cars, bookings/sessions lists, Stats and WatchEvents: a fleet token is trusted
 *   for all its cars, and with the original single token those are the whole fleet.
 * - operator: every read; not stream (operators do not send telemetry).
 */
export function may(p: Principal, cap: Capability): boolean {
  if (hasRole(p, 'operator') && cap !== 'stream') return true;
  if (hasRole(p, 'fleet')) return true;
  if (hasRole(p, 'car')) return cap === 'stream' || cap === 'stations' || cap === 'read_car';
  return false;
}

/**
 * Whether `p` may book for or cancel the booking of `carId`. `streamedBy` is the principal that last
 * streamed the car's telemetry here (undefined: never); `seen` whether the car ever sent telemetry.
 * A car that never streamed can hold a port only when an operator books for it.
 */
export function bookingRefusal(p: Principal, carId: string, facts: { streamedBy?: string; seen: boolean }): string | null {
  if (hasRole(p, 'operator')) return null;
  if (hasRole(p, 'car')) {
    if (p.carId !== carId) return `this token speaks for ${p.carId}, not ${carId}`;
    return facts.seen ? null : `${carId} has never sent telemetry; stream first (or ask an operator to book for it)`;
  }
  if (hasRole(p, 'fleet')) {
    return facts.streamedBy === p.name ? null : `${carId} has not streamed telemetry with this token; stream it first (or ask an operator to book for it)`;
  }
  return 'this token may not book';
}
