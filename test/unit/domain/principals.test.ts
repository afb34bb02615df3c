import { describe, expect, it } from 'vitest';
import { bookingRefusal, issueCarToken, may, TokenSet, verifyCarToken, type Principal } from '../../../src/domain/principals.js';

const SECRET = 'a'.repeat(64);
const NOW = 1_750_000_000_000;

describe('car tokens', () => {
  it('verifies a token it issued, naming the car and the expiry', () => {
    const token = issueCarToken(SECRET, 'CAR-001', NOW + 3_600_000);
    expect(token).toMatch(/^car\.CAR-001\.\d+\.[A-Za-z0-9_-]{43}$/);
    expect(verifyCarToken(SECRET, token, NOW)).toEqual({ ok: true, claims: { carId: 'CAR-001', expiresAt: Math.ceil((NOW + 3_600_000) / 1000) * 1000 } });
  });

  it('refuses an expired token, and accepts one without expiry forever', () => {
    const token = issueCarToken(SECRET, 'CAR-001', NOW + 1000);
    expect(verifyCarToken(SECRET, token, NOW + 2000)).toEqual({ ok: false, reason: 'expired' });
    const forever = issueCarToken(SECRET, 'CAR-001');
    expect(verifyCarToken(SECRET, forever, NOW + 100 * 365 * 86_400_000).ok).toBe(true);
  });

  it('refuses a token whose car id or expiry was edited, or signed with another secret', () => {
    const token = issueCarToken(SECRET, 'CAR-001', NOW + 1000);
    const [, , exp, sig] = token.split('.');
    expect(verifyCarToken(SECRET, `car.CAR-002.${exp}.${sig}`, NOW)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyCarToken(SECRET, `car.CAR-001.${Number(exp) + 86_400}.${sig}`, NOW)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyCarToken(SECRET, `car.CAR-001.0.${sig}`, NOW)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyCarToken('b'.repeat(64), token, NOW)).toEqual({ ok: false, reason: 'bad_signature' });
    const flipped = sig!.slice(0, -2) + (sig!.at(-2) === 'A' ? 'B' : 'A') + sig!.at(-1);
    expect(verifyCarToken(SECRET, `car.CAR-001.${exp}.${flipped}`, NOW).ok).toBe(false);
  });

  it('refuses malformed tokens', () => {
    for (const t of ['', 'car.', 'car.CAR-1.0', 'car.CAR 1.0.xxx', 'fleet.CAR-1.0.' + 'A'.repeat(43), 'car.CAR-1.abc.' + 'A'.repeat(43), 'car.CAR-1.0.short'])
      expect(verifyCarToken(SECRET, t, NOW)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('will not issue for an invalid car id or with a short secret', () => {
    expect(() => issueCarToken(SECRET, 'CAR.1')).toThrow(/car id/);
    expect(() => issueCarToken('short', 'CAR-1')).toThrow(/secret/);
  });
});

describe('TokenSet', () => {
  it('matches equal tokens only, whatever their lengths', () => {
    const set = new TokenSet([
      ['fleet-token', 'fleet'],
      ['op-token-longer-one', 'operator'],
      ['fleet-token', 'also'],
    ]);
    expect(set.match('fleet-token')).toEqual(['fleet', 'also']);
    expect(set.match('op-token-longer-one')).toEqual(['operator']);
    for (const wrong of ['', 'fleet-toke', 'fleet-token ', 'x'.repeat(4096)]) expect(set.match(wrong)).toEqual([]);
  });
});

const car = (id: string): Principal => ({ name: `car:${id}`, roles: new Set(['car']), carId: id });
const fleet = (name: string): Principal => ({ name, roles: new Set(['fleet']) });
const operator: Principal = { name: 'operator:1', roles: new Set(['operator']) };

describe('what each principal may do', () => {
  it('a car books only for itself, and only once it has streamed', () => {
    expect(bookingRefusal(car('A'), 'A', { seen: true })).toBeNull();
    expect(bookingRefusal(car('A'), 'B', { seen: true })).toMatch(/speaks for A, not B/);
    expect(bookingRefusal(car('A'), 'A', { seen: false })).toMatch(/never sent telemetry/);
  });

  it('a fleet books for the cars it streamed, not for cars another principal streamed or that never streamed', () => {
    expect(bookingRefusal(fleet('fleet:1'), 'A', { streamedBy: 'fleet:1', seen: true })).toBeNull();
    expect(bookingRefusal(fleet('fleet:1'), 'A', { streamedBy: 'fleet:2', seen: true })).toMatch(/not streamed telemetry with this token/);
    expect(bookingRefusal(fleet('fleet:1'), 'A', { seen: false })).toMatch(/not streamed/);
  });

  it('an operator books and cancels for any car, even one that never streamed', () => {
    expect(bookingRefusal(operator, 'NEVER', { seen: false })).toBeNull();
  });

  it('queries: operators read everything but do not stream; cars read stations and themselves only', () => {
    expect(may(operator, 'watch')).toBe(true);
    expect(may(operator, 'read_fleet')).toBe(true);
    expect(may(operator, 'stream')).toBe(false);
    expect(may(fleet('f'), 'stream')).toBe(true);
    expect(may(fleet('f'), 'watch')).toBe(true);
    expect(may(car('A'), 'stream')).toBe(true);
    expect(may(car('A'), 'stations')).toBe(true);
    expect(may(car('A'), 'read_car')).toBe(true);
    expect(may(car('A'), 'read_fleet')).toBe(false);
    expect(may(car('A'), 'watch')).toBe(false);
  });
});
