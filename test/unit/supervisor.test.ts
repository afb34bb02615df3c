import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { childEnv, childSpecs } from '../../src/app/supervisor.js';

const cwd = () => mkdtempSync(join(tmpdir(), 'gl-sup-'));

describe('supervisor', () => {
  it('hands flags given to `up` to the children as GREENLANE_* variables, and points clients at its own ports', () => {
    const loaded = loadConfig({ env: { GREENLANE_KAFKA_BROKERS: 'k:1' }, cwd: cwd(), flags: { grpcPort: 50111, gridPort: 50112, kafkaBrokers: 'a:1,b:2' } });
    const env = childEnv(loaded);
    expect(env).toMatchObject({ GREENLANE_GRPC_PORT: '50111', GREENLANE_GRID_PORT: '50112', GREENLANE_KAFKA_BROKERS: 'a:1,b:2' });
    expect(env.GREENLANE_SERVER).toBe('127.0.0.1:50111');
    expect(env.GREENLANE_GRID_URL).toBe('http://127.0.0.1:50112');
  });

  it('leaves values that came from the environment alone and keeps an explicit server address', () => {
    const loaded = loadConfig({ env: { GREENLANE_REDIS_URL: 'redis://r:6379', GREENLANE_SERVER: '10.0.0.5:50051' }, cwd: cwd() });
    const env = childEnv(loaded);
    expect(env.GREENLANE_REDIS_URL).toBeUndefined(); // inherited from the parent environment as is
    expect(env.GREENLANE_SERVER).toBeUndefined();
  });

  it('starts the grid first and the simulator last, so shutdown (reverse order) drains producers first', () => {
    expect(childSpecs(0).map((s) => s.name)).toEqual(['grid', 'worker', 'ingestion']);
    expect(childSpecs(5, 60).map((s) => s.name)).toEqual(['grid', 'worker', 'ingestion', 'sim']);
    expect(childSpecs(5, 60).at(-1)!.args).toEqual(['sim', '--cars', '5', '--speed', '60', '--battery', '10-60']);
  });
});
