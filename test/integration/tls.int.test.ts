import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDevToken } from '../../src/config/token.js';
import { createFleetClient } from '../../src/grpc/client.js';
import { runCli } from '../helpers/run-cli.js';
import { freePort } from '../helpers/net.js';

/** A CA, a server certificate for 127.0.0.1/localhost and a client certificate, made with openssl now. */
function makeTestPki(dir: string) {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=greenlane-test-ca');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [name, cn] of [['server', 'localhost'], ['client', 'greenlane-test-client']] as const) {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', '-extfile', `${name}.ext`);
  }
  return { ca: join(dir, 'ca.pem'), serverCert: join(dir, 'server.pem'), serverKey: join(dir, 'server.key'), clientCert: join(dir, 'client.pem'), clientKey: join(dir, 'client.key') };
}

describe('TLS end to end: sim → ingestion → tail, with client certificates required', () => {
  const dir = mkdtempSync(join(tmpdir(), 'greenlane-tls-'));
  const pki = makeTestPki(dir);
  // Embedded mode (no engine): the test is about the transport, not the engines.
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GREENLANE_')));
  Object.assign(env, { GREENLANE_DATA_DIR: join(dir, 'data'), GREENLANE_LOG_LEVEL: 'warn' });
  let port = 0;
  let server: ReturnType<typeof runCli> | undefined;
  const clientTls = ['--tls-ca', pki.ca, '--tls-cert', pki.clientCert, '--tls-key', pki.clientKey];

  beforeAll(async () => {
    port = await freePort();
    server = runCli(['ingestion', '--grpc-port', String(port), '--metrics-port', '0', '--tls-cert', pki.serverCert, '--tls-key', pki.serverKey, '--tls-ca', pki.ca], { env, extendEnv: false, reject: false, all: true, buffer: false });
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`ingestion did not start:\n${out}`)), 30_000);
      server!.all!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (/Ingestion listening/.test(out)) {
          expect(out).toMatch(/TLS, client certificates required/);
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }, 40_000);

  afterAll(async () => {
    server?.kill('SIGTERM');
    await server?.catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  it('streams telemetry from the simulator to tail --json over TLS', async () => {
    const address = `127.0.0.1:${port}`;
    const tail = runCli(['tail', '--json', '--source', 'server', '--server', address, ...clientTls, '--limit', '5', '--duration', '40'], { env, extendEnv: false, reject: false });
    await new Promise((r) => setTimeout(r, 3_000)); // tail subscribes first
    const sim = await runCli(['sim', '--cars', '5', '--duration', '6', '--no-react', '--server', address, ...clientTls, '--json'], { env, extendEnv: false, reject: false });
    expect(sim.exitCode, sim.stderr).toBe(0);
    expect(JSON.parse(sim.stdout).sent).toBeGreaterThan(0);
    const tailed = await tail;
    const events = tailed.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { car_id: string });
    expect(events.length, tailed.stderr).toBeGreaterThanOrEqual(5);
    expect(events[0]!.car_id).toMatch(/^CAR-/);
  }, 90_000);

  it('refuses a client without a certificate, and a plaintext client', async () => {
    const token = readDevToken(env.GREENLANE_DATA_DIR!)!;
    expect(token).toBeTruthy();
    const noCert = createFleetClient(`127.0.0.1:${port}`, token, { tls: { ca: pki.ca }, separateConnection: true });
    await expect(noCert.stats(3_000)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    noCert.close();
    const plain = createFleetClient(`127.0.0.1:${port}`, token, { separateConnection: true });
    await expect(plain.stats(3_000)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    plain.close();
    const good = createFleetClient(`127.0.0.1:${port}`, token, { tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey }, separateConnection: true });
    expect((await good.stats(5_000)).accepted).toBeGreaterThan(0);
    good.close();
  }, 30_000);
});
