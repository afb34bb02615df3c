import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { WebSocketServer } from 'ws';
import type { WebHub } from './hub.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
};

/** Everything comes from this origin: no CDN, no inline script, no framing. */
function securityHeaders(tilesOrigin?: string): Record<string, string> {
  // A `--tiles` basemap is the one exception: deck.gl fetches its images from that origin.
  const tiles = tilesOrigin ? ` ${tilesOrigin}` : '';
  return {
    'Content-Security-Policy': `default-src 'self'; connect-src 'self'${tiles}; img-src 'self' data: blob:${tiles}; style-src 'self' 'unsafe-inline'; worker-src 'self' blob:; frame-ancestors 'none'`,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
  };
}

export interface WebServerOptions {
  hub: WebHub;
  /** The built page (dist/web/public). */
  assetsDir: string;
  host: string;
  port: number;
  /** The origin of a `--tiles` basemap (src/web/tiles.ts), allowed by the page's CSP. */
  tilesOrigin?: string;
}

export interface WebServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Serves the page's files and the hub's `/ws` on one port. */
export async function startWebServer(opts: WebServerOptions): Promise<WebServer> {
  const root = normalize(opts.assetsDir);
  const wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 });
  const headers = securityHeaders(opts.tilesOrigin);
  const server: Server = createServer((req, res) => void serveFile(root, headers, req, res));
  server.on('upgrade', (req, socket, head) => {
    if (new URL(req.url ?? '/', 'http://x').pathname !== '/ws' || !sameOrigin(req)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => opts.hub.accept(ws));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  opts.hub.start();
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host === '0.0.0.0' ? '127.0.0.1' : opts.host;
  return {
    url: `http://${host}:${port}`,
    port,
    async close() {
      await opts.hub.close();
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.closeAllConnections?.();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A browser on another site must not open our socket (the token is still required; this is defence in depth). */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (!origin) return true; // not a browser (bench, CLI clients)
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

async function serveFile(root: string, headers: Record<string, string>, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD' }).end();
    return;
  }
  let path: string;
  try {
    path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  } catch {
    res.writeHead(400).end();
    return;
  }
  if (path === '/health') {
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end('OK');
    return;
  }
  const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
  if (file !== root && !file.startsWith(root + sep)) {
    res.writeHead(404).end();
    return;
  }
  const st = await stat(file).catch(() => undefined);
  if (!st?.isFile()) {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end(path === '/' ? 'The web view is not built: run `npm run build`.' : 'not found');
    return;
  }
  res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Content-Length': st.size, ...headers });
  if (req.method === 'HEAD') res.end();
  else createReadStream(file).pipe(res);
}
