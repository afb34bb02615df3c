import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { GridFetch } from './grid-client.js';

/**
 * A GET for a command that asks the grid once and exits (`greenlane price`): node:http with no
 * keep-alive. The global fetch() costs such a command about a second more (bench/cli-startup.ts):
 * Node loads its HTTP client (undici) on first use, and the idle keep-alive socket holds the
 * process open after the answer until the server's keep-alive timeout. Long-running readers of
 * the grid (the worker's price source) keep fetch and its pooled connections.
 */
export const oneShotGet: GridFetch = async (url, init) => {
  const request = url.protocol === 'https:' ? (await import('node:https')).request : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', headers: init.headers, signal: init.signal, agent: false }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status, ok: status >= 200 && status < 300, json: async () => JSON.parse(text) as unknown });
      });
    });
    req.on('error', reject);
    req.end();
  });
};
