import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../src/cli/exit-codes.js';
import { ConfigError } from '../../src/errors.js';
import { assertCompleteExternal, describeConfig, loadConfig } from '../../src/config/load.js';
import { envName } from '../../src/config/schema.js';

const cwdWith = (json?: unknown) => {
  const dir = mkdtempSync(join(tmpdir(), 'gl-config-'));
  if (json !== undefined) writeFileSync(join(dir, 'greenlane.config.json'), JSON.stringify(json));
  return dir;
};

describe('loadConfig', () => {
  it('defaults to embedded mode with the original ports', () => {
    const { config, mode, sources } = loadConfig({ env: {}, cwd: cwdWith() });
    expect(mode).toBe('embedded');
    expect(config.grpcPort).toBe(50051);
    expect(config.gridPort).toBe(8081);
    expect(sources.grpcPort).toBe('default');
  });

  it('applies precedence flag > env > file > default and records the source', () => {
    const cwd = cwdWith({ gridPort: 9001, grpcPort: 9002, metricsPort: 9003 });
    const env = { GREENLANE_GRPC_PORT: '9102', GREENLANE_METRICS_PORT: '9103' };
    const { config, sources } = loadConfig({ env, cwd, flags: { metricsPort: '9203' } });
    expect([config.gridPort, sources.gridPort]).toEqual([9001, 'file']);
    expect([config.grpcPort, sources.grpcPort]).toEqual([9102, 'env']);
    expect([config.metricsPort, sources.metricsPort]).toEqual([9203, 'flag']);
  });

  it('switches to external mode when an engine is configured and splits broker lists', () => {
    const { config, mode } = loadConfig({ env: { GREENLANE_KAFKA_BROKERS: 'a:1, b:2' }, cwd: cwdWith() });
    expect(mode).toBe('external');
    expect(config.kafkaBrokers).toEqual(['a:1', 'b:2']);
  });

  it('rejects an invalid value with exit 3, naming the key, the value and what is allowed', () => {
    const run = () => loadConfig({ env: { GREENLANE_REDIS_URL: 'http://x' }, cwd: cwdWith() });
    expect(run).toThrow(ConfigError);
    try {
      run();
    } catch (err) {
      const e = err as ConfigError;
      expect(exitCodeFor(e)).toBe(3);
      expect(e.message).toContain('GREENLANE_REDIS_URL');
      expect(e.message).toContain('"http://x"');
      expect(e.message).toMatch(/redis:\/\//);
    }
  });

  it('rejects unknown keys in the config file', () => {
    expect(() => loadConfig({ env: {}, cwd: cwdWith({ kafka: 'x' }) })).toThrow(/unknown keys kafka/);
  });

  it('redacts secrets when described', () => {
    const loaded = loadConfig({ env: { GREENLANE_API_TOKENS: 'supersecret,other' }, cwd: cwdWith() });
    const row = describeConfig(loaded).find((r) => r.key === 'apiTokens')!;
    expect(JSON.stringify(row)).not.toContain('supersecret');
    expect(row.value).toEqual(['********', '********']);
  });

  it('refuses a half-configured external stack', () => {
    const { config } = loadConfig({ env: { GREENLANE_REDIS_URL: 'redis://127.0.0.1:6379' }, cwd: cwdWith() });
    expect(() => assertCompleteExternal(config)).toThrow(/GREENLANE_KAFKA_BROKERS/);
  });

  it('names env variables consistently', () => {
    expect(envName('kafkaBrokers')).toBe('GREENLANE_KAFKA_BROKERS');
    expect(envName('apiTokens')).toBe('GREENLANE_API_TOKENS');
  });
});
