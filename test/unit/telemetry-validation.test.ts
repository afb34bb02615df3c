import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { clientToken, devTokenPath, ensureDevToken, readDevToken, resolveTokens } from '../../src/config/token.js';
import { DEFAULT_TIMESTAMP_WINDOW, toTelemetryEvent, validateCarStatus } from '../../src/domain/telemetry.js';

const NOW = 1_701_532_800_000;
const valid = { car_id: 'CAR-001', latitude: 40.7234, longitude: -73.9876, battery_level: 85.3, velocity: 45.2, timestamp: NOW };
const DAY = 86_400_000;

describe('validateCarStatus', () => {
  it('accepts a valid message and returns its value', () => {
    expect(validateCarStatus(valid, NOW)).toEqual({ ok: true, value: valid });
  });

  it('accepts the bounds themselves', () => {
    const edge = { ...valid, latitude: -90, longitude: 180, battery_level: 0, velocity: 400, car_id: 'a'.repeat(64) };
    expect(validateCarStatus(edge, NOW).ok).toBe(true);
    expect(validateCarStatus({ ...valid, battery_level: 100, latitude: 90, longitude: -180, velocity: 0 }, NOW).ok).toBe(true);
  });

  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    ['empty car_id', { car_id: '' }, 'car_id', /required/],
    ['car_id too long', { car_id: 'x'.repeat(65) }, 'car_id', /1–64/],
    ['car_id with a space', { car_id: 'CAR 1' }, 'car_id', /A-Z/],
    ['car_id not a string', { car_id: 7 }, 'car_id', /required/],
    ['latitude above 90', { latitude: 90.0001 }, 'latitude', /-90\.\.90/],
    ['latitude NaN', { latitude: NaN }, 'latitude', /finite/],
    ['longitude below -180', { longitude: -180.5 }, 'longitude', /-180\.\.180/],
    ['longitude Infinity', { longitude: Infinity }, 'longitude', /finite/],
    ['battery negative', { battery_level: -0.1 }, 'battery_level', /0\.\.100/],
    ['battery above 100', { battery_level: 101 }, 'battery_level', /0\.\.100/],
    ['velocity above 400', { velocity: 401 }, 'velocity', /0\.\.400/],
    ['velocity negative', { velocity: -1 }, 'velocity', /0\.\.400/],
    ['velocity a string', { velocity: '5' }, 'velocity', /finite/],
    ['timestamp zero (unset)', { timestamp: 0 }, 'timestamp', /positive integer/],
    ['timestamp in seconds', { timestamp: Math.floor(NOW / 1000) }, 'timestamp', /in the past/],
    ['timestamp 8 days old', { timestamp: NOW - 8 * DAY }, 'timestamp', /7 d in the past/],
    ['timestamp 2 days ahead', { timestamp: NOW + 2 * DAY }, 'timestamp', /1 d in the future/],
    ['timestamp fractional', { timestamp: NOW + 0.5 }, 'timestamp', /integer/],
  ];
  it.each(cases)('rejects %s', (_name, patch, field, reason) => {
    const r = validateCarStatus({ ...valid, ...patch }, NOW);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.field).toBe(field);
      expect(r.reason).toMatch(reason);
    }
  });

  it('rejects a non-object', () => {
    expect(validateCarStatus(null, NOW)).toMatchObject({ ok: false, field: 'car_id' });
  });

  it('uses a configurable window', () => {
    const strict = { pastMs: 60_000, futureMs: 5 * 60_000 };
    expect(validateCarStatus({ ...valid, timestamp: NOW + 6 * 60_000 }, NOW, strict)).toMatchObject({ ok: false, field: 'timestamp', reason: /5 min|300 s/ });
    expect(validateCarStatus({ ...valid, timestamp: NOW + 6 * 60_000 }, NOW).ok).toBe(true);
    expect(DEFAULT_TIMESTAMP_WINDOW).toEqual({ pastMs: 7 * DAY, futureMs: DAY });
  });
});

describe('toTelemetryEvent', () => {
  it('produces the original flat shape plus a unique event_id', () => {
    const a = toTelemetryEvent(valid);
    const b = toTelemetryEvent(valid);
    expect(a).toEqual({ event_id: expect.any(String), event_type: 'telemetry', car_id: 'CAR-001', lat: 40.7234, lon: -73.9876, battery: 85.3, velocity: 45.2, timestamp: NOW });
    expect(a.event_id).not.toBe(b.event_id);
    expect(Object.keys(JSON.parse(JSON.stringify(a))).sort()).toEqual(['battery', 'car_id', 'event_id', 'event_type', 'lat', 'lon', 'timestamp', 'velocity']);
    expect(toTelemetryEvent(valid, 'fixed').event_id).toBe('fixed');
  });
});

describe('dev token', () => {
  const dir = mkdtempSync(join(tmpdir(), 'greenlane-token-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is generated once, 32 random bytes in hex, user-only', () => {
    const dataDir = join(dir, 'data');
    expect(readDevToken(dataDir)).toBeNull();
    const token = ensureDevToken(dataDir);
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(ensureDevToken(dataDir)).toBe(token);
    expect(readDevToken(dataDir)).toBe(token);
    expect(statSync(devTokenPath(dataDir)).mode & 0o777).toBe(0o600);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
  });

  it('refuses a token file others can read', () => {
    const dataDir = join(dir, 'open');
    ensureDevToken(dataDir);
    chmodSync(devTokenPath(dataDir), 0o644);
    expect(() => readDevToken(dataDir)).toThrow(ConfigError);
  });

  it('external mode requires configured tokens and never adds the dev token', () => {
    const dataDir = join(dir, 'ext');
    expect(() => resolveTokens({ apiTokens: undefined, dataDir }, 'external')).toThrow(/GREENLANE_API_TOKENS/);
    expect(resolveTokens({ apiTokens: ['a', 'b', 'a'], dataDir }, 'external')).toEqual(['a', 'b']);
    expect(readDevToken(dataDir)).toBeNull();
  });

  it('embedded mode accepts configured tokens plus the dev token', () => {
    const dataDir = join(dir, 'emb');
    const tokens = resolveTokens({ apiTokens: ['mine'], dataDir }, 'embedded');
    expect(tokens).toEqual(['mine', readDevToken(dataDir)]);
  });

  it('clients use an explicit token, else the dev token, else explain', () => {
    const dataDir = join(dir, 'client');
    expect(() => clientToken(undefined, dataDir)).toThrow(/greenlane up/);
    expect(clientToken('explicit', dataDir)).toBe('explicit');
    const dev = ensureDevToken(dataDir);
    expect(clientToken(undefined, dataDir)).toBe(dev);
  });
});
