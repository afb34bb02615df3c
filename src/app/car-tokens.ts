import type { LoadedConfig } from '../config/load.js';
import { issuingSecret } from '../config/token.js';
import { issueCarToken } from '../domain/principals.js';
import { UsageError } from '../errors.js';

export interface IssuedCarToken {
  carId: string;
  token: string;
  /** ISO time after which it is refused, or null (no expiry). */
  expiresAt: string | null;
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "30d", "12h", "90m", "3600s" (or a bare number of seconds) → ms; "0"/"never" → 0 (no expiry). */
export function parseTtl(text: string): number {
  if (text === '0' || text === 'never') return 0;
  const m = /^(\d{1,7})([smhd]?)$/.exec(text.trim());
  if (!m) throw new UsageError(`--ttl must be a duration like 30d, 12h, 90m or 3600s (got ${JSON.stringify(text)})`, ['Use --ttl never for a token without expiry.']);
  return Number(m[1]) * UNIT_MS[m[2] || 's']!;
}

/** A car token signed with the server secret (GREENLANE_TOKEN_SECRET, or the embedded data dir's). */
export function issueCarTokenFor(loaded: Pick<LoadedConfig, 'config' | 'mode'>, carId: string, ttl: string, now = Date.now()): IssuedCarToken {
  const ttlMs = parseTtl(ttl);
  const expiresAt = ttlMs ? now + ttlMs : 0;
  let token: string;
  try {
    token = issueCarToken(issuingSecret(loaded.config, loaded.mode), carId, expiresAt);
  } catch (err) {
    if (err instanceof Error && /car id/.test(err.message)) throw new UsageError(err.message, ['Car ids are what the car sends as car_id.']);
    throw err;
  }
  const exp = Number(token.split('.')[2]) * 1000;
  return { carId, token, expiresAt: exp ? new Date(exp).toISOString() : null };
}
