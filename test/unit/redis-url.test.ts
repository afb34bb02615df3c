import { describe, expect, it } from 'vitest';
import { redisKeyPrefix } from '../../src/adapters/redis/client.js';
import { loadConfig } from '../../src/config/load.js';
import { redactUrl } from '../../src/util/redact.js';
import { isRedisClusterUrl, parseRedisClusterUrl } from '../../src/util/redis-url.js';

describe('redis-cluster:// URLs', () => {
  it('parses seed nodes and credentials', () => {
    expect(parseRedisClusterUrl('redis-cluster://127.0.0.1:7001,127.0.0.1:7002/')).toEqual({ nodes: [{ host: '127.0.0.1', port: 7001 }, { host: '127.0.0.1', port: 7002 }] });
    expect(parseRedisClusterUrl('redis-cluster://app:s%40cret@h1:7001')).toEqual({ username: 'app', password: 's@cret', nodes: [{ host: 'h1', port: 7001 }] });
    expect(() => parseRedisClusterUrl('redis-cluster://h1')).toThrow(/host:port/);
    expect(() => parseRedisClusterUrl('redis-cluster://')).toThrow(/no node/);
    expect(() => parseRedisClusterUrl('redis://h1:6379')).toThrow();
    expect(isRedisClusterUrl('REDIS-CLUSTER://h:1')).toBe(true);
    expect(isRedisClusterUrl('redis://h:1')).toBe(false);
  });

  it('is accepted as GREENLANE_REDIS_URL next to redis:// and rediss://, and refused when malformed', () => {
    const load = (url: string) => loadConfig({ env: { GREENLANE_REDIS_URL: url }, cwd: '/nonexistent-greenlane-dir' });
    expect(load('redis-cluster://127.0.0.1:7001,127.0.0.1:7002').config.redisUrl).toBe('redis-cluster://127.0.0.1:7001,127.0.0.1:7002');
    expect(load('redis://127.0.0.1:6379').config.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(() => load('redis-cluster://127.0.0.1')).toThrow();
    expect(() => load('http://127.0.0.1:6379')).toThrow();
  });

  it('masks the password in messages', () => {
    expect(redactUrl('redis-cluster://app:secret@h1:7001,h2:7002')).toBe('redis-cluster://app:****@h1:7001,h2:7002');
    expect(redactUrl('redis-cluster://h1:7001')).toBe('redis-cluster://h1:7001');
  });
});

describe('redisKeyPrefix', () => {
  it('keeps N: on one server and puts the namespace in a hash tag on a cluster', () => {
    expect(redisKeyPrefix('nyc', false)).toBe('nyc:');
    expect(redisKeyPrefix('', false)).toBe('');
    expect(redisKeyPrefix('nyc', true)).toBe('{nyc}:');
    // No namespace on a cluster still needs one slot; '-' is not a namespace character, so no namespace shares it.
    expect(redisKeyPrefix('', true)).toBe('{-}:');
    expect(redisKeyPrefix(undefined, true)).toBe('{-}:');
  });
});
