import { availableParallelism, tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ingestionProcesses } from '../../src/app/processes-cluster.js';
import { loadConfig } from '../../src/config/load.js';
import { UsageError } from '../../src/errors.js';

const external = () => loadConfig({ env: { GREENLANE_KAFKA_BROKERS: '127.0.0.1:1', GREENLANE_REDIS_URL: 'redis://127.0.0.1:1' }, cwd: tmpdir() });
const embedded = () => loadConfig({ env: {}, cwd: tmpdir() });

describe('ingestion --processes', () => {
  it('defaults to one process per core in external mode and takes the flag as given', () => {
    expect(ingestionProcesses(external(), undefined)).toBe(availableParallelism());
    expect(ingestionProcesses(external(), 3)).toBe(3);
  });

  it('is one process embedded, and refuses more there (the embedded state lives in one process)', () => {
    expect(ingestionProcesses(embedded(), undefined)).toBe(1);
    expect(ingestionProcesses(embedded(), 1)).toBe(1);
    expect(() => ingestionProcesses(embedded(), 2)).toThrow(UsageError);
  });
});
