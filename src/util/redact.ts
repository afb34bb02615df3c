import { isRedisClusterUrl, redactRedisClusterUrl } from './redis-url.js';

const SECRET_PARAM = /pass|secret|token|key|auth/i;

/** The URL with its password (and any password/token/secret query parameter) masked, for messages and logs. */
export function redactUrl(url: string): string {
  if (isRedisClusterUrl(url)) return redactRedisClusterUrl(url);
  try {
    const u = new URL(url);
    if (u.password) u.password = '****';
    for (const name of [...u.searchParams.keys()]) if (SECRET_PARAM.test(name)) u.searchParams.set(name, '****');
    return u.toString();
  } catch {
    return '<invalid url>';
  }
}

/** Every credential-bearing URL inside free text (an error message, a log line) with its password masked. */
export function redactUrlsIn(text: string): string {
  return text.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s'"<>]+/gi, (m) => (/@|[?&]/.test(m) ? redactUrl(m) : m));
}
