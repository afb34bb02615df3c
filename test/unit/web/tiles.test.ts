import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { operatorAuthenticator } from '../../../src/web/auth.js';
import { WebHub } from '../../../src/web/hub.js';
import type { SnapshotMsg } from '../../../src/web/protocol.js';
import { startWebServer } from '../../../src/web/server.js';
import { checkTilesUrl } from '../../../src/web/tiles.js';

const OP = 'operator-token-0123456789';

describe('--tiles URL template', () => {
  it('takes an http(s) template with {z}/{x}/{y} and names its origin for the CSP', () => {
    expect(checkTilesUrl('https://tile.openstreetmap.org/{z}/{x}/{y}.png')).toEqual({ template: 'https://tile.openstreetmap.org/{z}/{x}/{y}.png', origin: 'https://tile.openstreetmap.org' });
    expect(checkTilesUrl('http://10.0.0.5:8088/tiles/{z}/{x}/{y}.png').origin).toBe('http://10.0.0.5:8088');
  });

  it.each([
    ['not a url', /URL template/],
    ['javascript:alert(1)/{z}/{x}/{y}', /http\(s\)/],
    ['https://tiles.example/{z}/{x}.png', /\{y\}/],
    ['https://user:pw@tiles.example/{z}/{x}/{y}.png', /credentials/],
  ])('refuses %s', (url, why) => {
    expect(() => checkTilesUrl(url)).toThrow(why);
  });
});

describe('the web server with a basemap', () => {
  it('allows images from the tile origin only, and hands the template to the page in the snapshot', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'greenlane-web-assets-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>t</title>');
    const tiles = checkTilesUrl('https://tiles.example.org/{z}/{x}/{y}.png');
    const hub = new WebHub({ authenticate: operatorAuthenticator({ fleet: [], operator: [OP] }), tiles: tiles.template });
    const web = await startWebServer({ hub, assetsDir: dir, host: '127.0.0.1', port: 0, tilesOrigin: tiles.origin });
    try {
      const res = await fetch(`${web.url}/`);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toMatch(/img-src 'self' data: blob: https:\/\/tiles\.example\.org;/);
      expect(csp).toContain("default-src 'self';");
      const snapshot = await new Promise<SnapshotMsg>((resolve, reject) => {
        const ws = new WebSocket(`${web.url.replace('http', 'ws')}/ws`);
        ws.on('open', () => ws.send(JSON.stringify({ type: 'auth', token: OP })));
        ws.on('message', (data) => {
          resolve(JSON.parse(String(data)));
          ws.close();
        });
        ws.on('error', reject);
      });
      expect(snapshot).toMatchObject({ type: 'snapshot', tiles: 'https://tiles.example.org/{z}/{x}/{y}.png' });
    } finally {
      await web.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
