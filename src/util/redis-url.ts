/**
 * Redis addresses. `redis://` / `rediss://` is one server; `redis-cluster://[user:password@]host:port,host:port…`
 * is a Redis Cluster reached through any of the listed nodes (seeds; the client learns the rest from
 * CLUSTER SLOTS). docs/SCALING.md explains the key layout on a cluster.
 */
export const REDIS_CLUSTER_PROTOCOL = 'redis-cluster:';

export interface RedisClusterTarget {
  nodes: { host: string; port: number }[];
  username?: string;
  password?: string;
}

export function isRedisClusterUrl(url: string): boolean {
  return url.toLowerCase().startsWith(`${REDIS_CLUSTER_PROTOCOL}//`);
}

/** The seed nodes and credentials of a `redis-cluster://` URL; throws on anything else. */
export function parseRedisClusterUrl(url: string): RedisClusterTarget {
  if (!isRedisClusterUrl(url)) throw new Error('expected a URL starting with redis-cluster://');
  let rest = url.slice(`${REDIS_CLUSTER_PROTOCOL}//`.length).replace(/\/+$/, '');
  const target: RedisClusterTarget = { nodes: [] };
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const [user, ...pass] = rest.slice(0, at).split(':');
    if (user) target.username = decodeURIComponent(user);
    if (pass.length) target.password = decodeURIComponent(pass.join(':'));
    rest = rest.slice(at + 1);
  }
  for (const node of rest.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([^\s:/?#]+):(\d{1,5})$/.exec(node);
    if (!m || Number(m[2]) > 65535) throw new Error(`redis-cluster:// node "${node}" is not host:port`);
    target.nodes.push({ host: m[1], port: Number(m[2]) });
  }
  if (target.nodes.length === 0) throw new Error('redis-cluster:// lists no node');
  return target;
}

/** The cluster URL with its password masked. */
export function redactRedisClusterUrl(url: string): string {
  return url.replace(/^(redis-cluster:\/\/[^:@/]*:)[^@]*@/i, '$1****@');
}
