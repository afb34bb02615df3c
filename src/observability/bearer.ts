import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * The check of an optional bearer token on an HTTP endpoint (grid, /metrics): with no token every
 * request passes; with one, `open` paths pass and every other request needs
 * `Authorization: Bearer <token>`. Compared as SHA-256 digests in constant time, so neither the
 * content nor the length of the token leaks through timing.
 */
export function bearerCheck(token: string | undefined, open: readonly string[] = []): (req: IncomingMessage, path: string) => boolean {
  if (!token) return () => true;
  const expected = createHash('sha256').update(token).digest();
  return (req, path) => {
    if (open.includes(path)) return true;
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(header);
    if (!m) return false;
    return timingSafeEqual(createHash('sha256').update(m[1]!.trim()).digest(), expected);
  };
}
