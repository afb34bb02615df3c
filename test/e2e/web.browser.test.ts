import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from '../helpers/run-cli.js';
import { freePort } from '../helpers/net.js';

/**
 * The web map in a real headless Chromium (Debian `chromium`, driven by playwright-core) against
 * `greenlane up --sim 30` on private ports and a private data dir.
 */
const CHROMIUM = process.env.GREENLANE_CHROMIUM ?? '/usr/bin/chromium';
const OUT = process.env.GREENLANE_CI_OUT ?? mkdtempSync(join(tmpdir(), 'greenlane-web-'));
const stations: { id: string; name: string; lat: number; lon: number }[] = JSON.parse(readFileSync(join(repoRoot, 'deploy', 'stations', 'manhattan.json'), 'utf8'));

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

interface BookingRow {
  bookingId: string;
  carId: string;
  status: 'held' | 'charging' | 'queued';
  stationId: string | null;
}

describe('greenlane web map in headless Chromium', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'greenlane-web-data-'));
  let up: ResultPromise | undefined;
  let upLog = '';
  let ctx: BrowserContext | undefined;
  let url = '';
  let token = '';
  let env: Record<string, string> = {};
  const profile = mkdtempSync(join(tmpdir(), 'greenlane-chromium-'));

  const bookings = async (): Promise<BookingRow[]> => {
    const r = await runCli(['bookings', '--json'], { env, reject: false, timeout: 30_000 });
    if (r.exitCode !== 0) throw new Error(String(r.stderr));
    return JSON.parse(String(r.stdout)).bookings;
  };

  beforeAll(async () => {
    if (!existsSync(join(repoRoot, 'dist', 'web', 'public', 'index.html'))) await execa('npm', ['run', 'build:web'], { cwd: repoRoot });
    const [grpc, grid, metrics, web] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    env = { GREENLANE_DATA_DIR: dataDir, GREENLANE_SERVER: `127.0.0.1:${grpc}`, GREENLANE_GRID_URL: `http://127.0.0.1:${grid}` };
    // `up` is not told the grid's URL: its web map must find the grid on the port it actually started.
    const { GREENLANE_GRID_URL: _grid, ...upEnv } = env;
    up = runCli(['up', '--sim', '30', '--ephemeral', '--grpc-port', String(grpc), '--grid-port', String(grid), '--metrics-port', String(metrics), '--web-port', String(web)], {
      env: { ...upEnv, GREENLANE_LOG_LEVEL: 'warn' },
      reject: false,
      all: true,
    });
    up.all?.on('data', (d: Buffer) => void (upLog += d.toString()));
    url = await until('the web URL', async () => /web\s+(http:\/\/\S+?)\/\s/.exec(upLog)?.[1], 120_000).catch((err) => {
      throw new Error(`${(err as Error).message}\n${upLog}`);
    });
    token = readFileSync(join(dataDir, 'dev-token'), 'utf8').trim();
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 800 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 180_000);

  afterAll(async () => {
    await ctx?.close().catch(() => {});
    if (up) {
      up.kill('SIGINT');
      await Promise.race([up, new Promise((r) => setTimeout(r, 20_000))]);
      up.kill('SIGKILL');
    }
    rmSync(profile, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses a wrong credential', async () => {
    const page = await ctx!.newPage();
    await page.goto(`${url}/#token=not-a-token`);
    await expect.poll(() => page.getByTestId('auth-error').textContent(), { timeout: 15_000 }).toMatch(/refused: invalid token/);
    await page.close();
  });

  it('draws the fleet, moves the KPIs, opens a station, cancels a booking and requests one', async () => {
    const page: Page = await ctx!.newPage();
    const errors: string[] = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${url}/#token=${encodeURIComponent(token)}`);
    expect(page.url()).not.toContain(token); // the fragment is dropped once read

    // KPIs: 30 cars arrive, and the counters keep changing.
    await expect.poll(() => page.getByTestId('kpi-cars').textContent(), { timeout: 60_000 }).toBe('30');
    const seen = new Set<string>();
    await until('the KPIs to move', async () => {
      seen.add(await page.locator('.kpis').innerText());
      return seen.size >= 3;
    });

    // The price curve from the grid `up` started, with "now" on it.
    await expect.poll(() => page.getByTestId('price-curve').textContent(), { timeout: 30_000 }).toMatch(/now \$\d+\.\d{3}\/kWh/);

    // The canvas: car band colours and station occupancy colours are on it.
    const colours = await page.evaluate(() => {
      // Runs in the page (DOM types are not in this project's lib).
      // The map is WebGL (deck.gl, drawn with preserveDrawingBuffer): copy it onto a 2D canvas to read its pixels.
      type Ctx2d = { drawImage(c: unknown, x: number, y: number): void; getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
      type Canvas = { width: number; height: number; getContext(k: '2d'): Ctx2d | null };
      const doc = (globalThis as unknown as { document: { getElementById(id: string): Canvas; createElement(t: 'canvas'): Canvas } }).document;
      const c = doc.getElementById('map');
      const copy = doc.createElement('canvas');
      copy.width = c.width;
      copy.height = c.height;
      const ctx2d = copy.getContext('2d')!;
      ctx2d.drawImage(c, 0, 0);
      const d = ctx2d.getImageData(0, 0, c.width, c.height).data;
      const want: Record<string, [number, number, number]> = { green: [0x22, 0xc5, 0x5e], yellow: [0xea, 0xb3, 0x08], red: [0xef, 0x44, 0x44], free: [0x22, 0xd3, 0xee], busy: [0xa8, 0x55, 0xf7], full: [0xec, 0x48, 0x99] };
      const counts: Record<string, number> = Object.fromEntries(Object.keys(want).map((k) => [k, 0]));
      for (let i = 0; i < d.length; i += 4)
        for (const [k, [r, g, b]] of Object.entries(want)) if (Math.abs(d[i]! - r) < 6 && Math.abs(d[i + 1]! - g) < 6 && Math.abs(d[i + 2]! - b) < 6) counts[k]!++;
      return counts;
    });
    expect(colours.green + colours.yellow + colours.red, JSON.stringify(colours)).toBeGreaterThan(30);
    expect(colours.free + colours.busy + colours.full, JSON.stringify(colours)).toBeGreaterThan(200);

    // A booking the server lists; open its station on the map.
    const target = await until('an active booking', async () => {
      const list = await bookings();
      return list.find((b) => b.status === 'queued' && b.stationId) ?? list.find((b) => b.status === 'held' && b.stationId);
    }, 120_000);
    const st = stations.find((s) => s.id === target.stationId)!;
    const at = await page.evaluate(([lat, lon]) => (globalThis as unknown as { greenlaneMap: { project(a: number, b: number): { x: number; y: number } } }).greenlaneMap.project(lat!, lon!), [st.lat, st.lon]);
    await page.locator('#map').click({ position: { x: at.x, y: at.y } });
    await expect.poll(() => page.getByTestId('station-detail').textContent(), { timeout: 10_000 }).toContain(st.name);

    // The operator action: cancel it, behind a confirmation; `greenlane bookings` no longer lists it.
    await page.getByTestId(`cancel-${target.carId}`).click({ timeout: 10_000 });
    await page.getByTestId('confirm-cancel').click();
    await expect.poll(() => page.getByTestId('action-result').textContent(), { timeout: 15_000 }).toMatch(/^✓/);
    await until('the booking to leave `greenlane bookings`', async () => !(await bookings()).some((b) => b.bookingId === target.bookingId), 20_000);

    // Take the station offline and back online from its detail: the server answers, the page shows OFFLINE.
    await page.getByTestId('station-offline').click({ timeout: 10_000 });
    await page.getByTestId('confirm-station').click();
    await expect.poll(() => page.getByTestId('action-result').textContent(), { timeout: 15_000 }).toMatch(new RegExp(`^✓ ${st.id} offline`));
    await expect.poll(() => page.getByTestId('station-detail').textContent(), { timeout: 20_000 }).toContain('OFFLINE');
    await page.getByTestId('station-online').click({ timeout: 10_000 });
    await page.getByTestId('confirm-station').click();
    await expect.poll(() => page.getByTestId('action-result').textContent(), { timeout: 15_000 }).toMatch(new RegExp(`^✓ ${st.id} online`));

    // The other operator action: request a booking for a car that has none; `greenlane bookings` lists it.
    const booked = new Set((await bookings()).map((b) => b.carId));
    const car = Array.from({ length: 30 }, (_, i) => `CAR-${String(i + 1).padStart(3, '0')}`).find((id) => !booked.has(id))!;
    await page.evaluate((id) => (globalThis as unknown as { greenlaneMap: { select(k: string, id: string): void } }).greenlaneMap.select('car', id), car);
    await page.getByTestId(`request-${car}`).click({ timeout: 10_000 });
    await page.getByTestId('confirm-request').click();
    const answer = new RegExp(`^✓ book ${car}: (confirmed|queued|deferred)`);
    await expect.poll(() => page.getByTestId('action-result').textContent(), { timeout: 15_000 }).toMatch(answer);
    // A deferral (price-aware: charge later) holds nothing yet; a hold or a queue place is listed.
    const decision = answer.exec((await page.getByTestId('action-result').textContent()) ?? '')![1];
    if (decision !== 'deferred') await until(`${car} in \`greenlane bookings\``, async () => (await bookings()).some((b) => b.carId === car), 20_000);

    mkdirSync(OUT, { recursive: true });
    await page.screenshot({ path: join(OUT, 'web-map.png') });
    expect(errors).toEqual([]);
    await page.close();
  }, 300_000);
});
