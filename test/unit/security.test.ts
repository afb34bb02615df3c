import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { issueCarTokenFor, parseTtl } from '../../src/app/car-tokens.js';
import { resolveClockMode, timestampWindowFor } from '../../src/app/clock-mode.js';
import { describeConfig, loadConfig } from '../../src/config/load.js';
import { resolveCredentials } from '../../src/config/token.js';
import { validateCarStatus } from '../../src/domain/telemetry.js';
import { ConfigError } from '../../src/errors.js';
import { createAuthenticator } from '../../src/grpc/auth.js';
import { redactUrl, redactUrlsIn } from '../../src/util/redact.js';

const SECRET = 's'.repeat(48);
const md = (token?: string) => {
  const m = new grpc.Metadata();
  if (token !== undefined) m.set('x-api-token', token);
  return { metadata: m };
};

describe('principal resolution', () => {
  const auth = createAuthenticator({ fleet: ['fleet-tok'], operator: ['op-tok', 'both'], tokenSecret: SECRET }, { now: () => 1_000_000 });
  it('maps fleet, operator and car tokens to their principals', () => {
    const f = auth(md('fleet-tok'));
    expect(f.ok && [...f.principal.roles]).toEqual(['fleet']);
    const o = auth(md('op-tok'));
    expect(o.ok && [...o.principal.roles]).toEqual(['operator']);
    const c = auth(md(issueCarTokenFor({ config: { tokenSecret: SECRET, dataDir: '/nonexistent' } as never, mode: 'external' }, 'CAR-9', 'never').token));
    expect(c.ok && c.principal).toMatchObject({ name: 'car:CAR-9', carId: 'CAR-9' });
  });

  it('refuses missing, wrong, forged and expired tokens with UNAUTHENTICATED', () => {
    const expired = issueCarTokenFor({ config: { tokenSecret: SECRET, dataDir: '/x' } as never, mode: 'external' }, 'CAR-9', '1s', 0).token;
    const forged = issueCarTokenFor({ config: { tokenSecret: 'x'.repeat(48), dataDir: '/x' } as never, mode: 'external' }, 'CAR-9', 'never').token;
    for (const [token, details] of [[undefined, 'missing x-api-token'], ['fleet-to', 'invalid x-api-token'], [forged, 'invalid x-api-token'], [expired, 'expired x-api-token']] as const) {
      const r = auth(md(token));
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toMatchObject({ code: grpc.status.UNAUTHENTICATED, details });
    }
  });

  it('accepts no car token without a secret', () => {
    const noSecret = createAuthenticator({ fleet: ['fleet-tok'] });
    const token = issueCarTokenFor({ config: { tokenSecret: SECRET, dataDir: '/x' } as never, mode: 'external' }, 'CAR-9', 'never').token;
    expect(noSecret(md(token)).ok).toBe(false);
  });
});

describe('credentials', () => {
  it('external mode has no default secret; embedded generates one and makes the dev token fleet and operator', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gl-sec-'));
    const ext = resolveCredentials({ apiTokens: ['t'], dataDir }, 'external');
    expect(ext).toEqual({ fleet: ['t'], operator: [], tokenSecret: undefined });
    const emb = resolveCredentials({ dataDir }, 'embedded');
    expect(emb.fleet).toHaveLength(1);
    expect(emb.operator).toEqual(emb.fleet);
    expect(emb.tokenSecret).toMatch(/^[0-9a-f]{64}$/);
    expect(resolveCredentials({ dataDir }, 'embedded').tokenSecret).toBe(emb.tokenSecret);
    expect(() => issueCarTokenFor({ config: { dataDir } as never, mode: 'external' }, 'CAR-1', '1d')).toThrow(ConfigError);
  });

  it('parses token lifetimes', () => {
    expect(parseTtl('30d')).toBe(30 * 86_400_000);
    expect(parseTtl('90m')).toBe(90 * 60_000);
    expect(parseTtl('never')).toBe(0);
    expect(() => parseTtl('soon')).toThrow(/--ttl/);
  });
});

describe('clock', () => {
  const loaded = (mode: 'embedded' | 'external', clock: 'auto' | 'wall' | 'event-time' = 'auto') => ({ mode, config: { clock } as never });
  it('is the wall clock on real engines and event time in an embedded dev stack', () => {
    expect(resolveClockMode(loaded('external'))).toBe('wall');
    expect(resolveClockMode(loaded('embedded'))).toBe('event-time');
    expect(resolveClockMode(loaded('embedded', 'wall'))).toBe('wall');
  });

  it('refuses simulated speed on real engines unless event time is asked for by name', () => {
    expect(() => resolveClockMode(loaded('external'), { speed: 60 })).toThrow(ConfigError);
    expect(() => resolveClockMode(loaded('external'), { speed: 60 })).toThrow(/--clock event-time|event-time clock/);
    expect(resolveClockMode(loaded('external', 'event-time'), { speed: 60 })).toBe('event-time');
  });

  it('rejects telemetry dated beyond the skew with the wall clock, with the reason', () => {
    const now = 1_750_000_000_000;
    const msg = (ahead: number) => ({ car_id: 'C', latitude: 40.7, longitude: -74, battery_level: 50, velocity: 0, timestamp: now + ahead });
    const wall = timestampWindowFor('wall', 300);
    expect(validateCarStatus(msg(299_000), now, wall).ok).toBe(true);
    const r = validateCarStatus(msg(23 * 3_600_000), now, wall);
    expect(r).toMatchObject({ ok: false, field: 'timestamp', reason: expect.stringMatching(/5 min in the future/) });
    expect(validateCarStatus(msg(6 * 60_000), now, timestampWindowFor('wall', 600)).ok).toBe(true);
    expect(validateCarStatus(msg(23 * 3_600_000), now, timestampWindowFor('event-time', 300)).ok).toBe(true);
  });
});

describe('secrets are masked', () => {
  it('config (text and --json) masks URL passwords, tokens and the token secret', () => {
    const env = {
      GREENLANE_REDIS_URL: 'redis://:r3dis-pass@127.0.0.1:6379',
      GREENLANE_DATABASE_URL: 'postgres://greenlane:pg-pass@127.0.0.1:5432/greenlane?password=pg-pass2',
      GREENLANE_KAFKA_BROKERS: '127.0.0.1:19092',
      GREENLANE_API_TOKENS: 'fleet-secret-token',
      GREENLANE_OPERATOR_TOKENS: 'operator-secret-token',
      GREENLANE_TOKEN_SECRET: 'z'.repeat(40),
    };
    const shown = JSON.stringify(describeConfig(loadConfig({ env, cwd: tmpdir() })));
    for (const secret of ['r3dis-pass', 'pg-pass', 'pg-pass2', 'fleet-secret-token', 'operator-secret-token', 'z'.repeat(40)]) expect(shown).not.toContain(secret);
    expect(shown).toContain('postgres://greenlane:****@127.0.0.1:5432/greenlane');
  });

  it('an invalid URL in configuration is reported without its password', () => {
    try {
      loadConfig({ env: { GREENLANE_DATABASE_URL: 'mysql://u:hunter2@h/db' }, cwd: tmpdir() });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toContain('hunter2');
    }
  });

  it('redacts credentials inside free text', () => {
    expect(redactUrl('redis://user:pw@h:1/0')).toBe('redis://user:****@h:1/0');
    expect(redactUrlsIn('connect postgres://a:b@h/db failed; see http://example.com/x')).toBe('connect postgres://a:****@h/db failed; see http://example.com/x');
  });
});
