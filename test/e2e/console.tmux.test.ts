import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithEngine } from '../helpers/infra.js';
import { canConnect, freePort, sleep } from '../helpers/net.js';
import { cliArgv, repoRoot, runCli } from '../helpers/run-cli.js';

/**
 * The full-screen console end to end: an embedded `greenlane up` with a simulated fleet, and
 * `greenlane tail` in tmux at 80×24, 120×40 and 200×60. Captures show every panel, the map's
 * station numbers, a drill-down, an operator cancel and its effect on `greenlane bookings`, a station
 * taken offline and back online from the console (checked with `greenlane stations list`), help,
 * and a clean terminal after q and after SIGTERM.
 */
const children: ChildProcess[] = [];
const sessions: string[] = [];
let dataDir = '';
let grpcPort = 0;
let gridPort = 0;

const tmux = (...args: string[]) => execFileSync('tmux', args, { encoding: 'utf8' });
const screen = (s: string) => tmux('capture-pane', '-p', '-t', s);
async function waitFor<T>(what: string, probe: () => T | false | Promise<T | false>, ms = 30_000, pane?: string): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await probe();
    if (v) return v;
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}\n--- screen ---\n${pane ? screen(pane) : ''}`);
}
const ENGINE_VARS = ['GREENLANE_KAFKA_BROKERS', 'GREENLANE_REDIS_URL', 'GREENLANE_DATABASE_URL', 'GREENLANE_NAMESPACE'];
const env = () => {
  const e: NodeJS.ProcessEnv = { ...process.env, GREENLANE_DATA_DIR: dataDir, GREENLANE_LOG_LEVEL: 'warn' };
  for (const k of ENGINE_VARS) delete e[k];
  return e;
};

/** Starts tail in a tmux session of the given size; the pane stays after exit (its pid in a file). */
function openConsole(cols: number, rows: number): { name: string; pidFile: string } {
  const name = `gl-console-${process.pid}-${cols}x${rows}`;
  const pidFile = join(dataDir, `${name}.pid`);
  const unset = ['CI', ...ENGINE_VARS].flatMap((k) => ['-u', k]);
  const argv = ['env', ...unset, `GREENLANE_DATA_DIR=${dataDir}`, ...cliArgv(['tail', '--server', `127.0.0.1:${grpcPort}`, '--grid-url', `http://127.0.0.1:${gridPort}`], { tsx: true })];
  const cmd = `sh -c 'echo $$ > ${pidFile}; exec ${argv.map((a) => `"${a}"`).join(' ')}'; echo TAIL-EXIT=$?; sleep 120`;
  tmux('new-session', '-d', '-s', name, '-x', String(cols), '-y', String(rows), cmd);
  sessions.push(name);
  return { name, pidFile };
}

const panelsUp = (s: string) => /● connected/.test(s) && /Fleet \d+ cars/.test(s) && /Stations \(\d+/.test(s) && /Cars \(\d+/.test(s) && /Feed /.test(s) && /\? help/.test(s);

await describeWithEngine('tmux', async () => void execFileSync('tmux', ['-V']), 'the full-screen console in a terminal', () => {
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'greenlane-console-e2e-'));
    [grpcPort, gridPort] = [await freePort(), await freePort()];
    const metricsPort = await freePort();
    const [node, ...argv] = cliArgv(['up', '--ephemeral', '--sim', '40', '--grpc-port', String(grpcPort), '--grid-port', String(gridPort), '--metrics-port', String(metricsPort), '--data-dir', dataDir]);
    children.push(spawn(node, argv, { cwd: repoRoot, env: env(), stdio: 'ignore' }));
    await waitFor('greenlane up to listen', () => canConnect(grpcPort), 90_000);
    await waitFor('the dev token', () => existsSync(join(dataDir, 'dev-token')));
  }, 120_000);

  afterAll(async () => {
    for (const s of sessions) {
      try {
        tmux('kill-session', '-t', s);
      } catch {
        /* gone */
      }
    }
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    await sleep(500);
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('80×24: every panel fits; q restores the terminal and prints the summary', async () => {
    const { name } = openConsole(80, 24);
    const s = await waitFor('every panel at 80×24', () => (panelsUp(screen(name)) ? screen(name) : false), 60_000, name);
    expect(s.split('\n').length).toBeLessThanOrEqual(25);
    expect(s).toMatch(/ 1 \S.*\d+\/\d+ free/);
    tmux('send-keys', '-t', name, 'q');
    const after = await waitFor('the summary after q', () => (screen(name).includes('TAIL-EXIT=0') ? screen(name) : false), 20_000, name);
    expect(after).toContain('Session summary');
    expect(after).not.toContain('Stations (');
  }, 120_000);

  it('120×40: map with station numbers, drill-down, an operator cancel and help', async () => {
    const { name, pidFile } = openConsole(120, 40);
    await waitFor('every panel at 120×40', () => panelsUp(screen(name)), 60_000, name);
    // A booking to cancel: the simulated fleet books within seconds.
    const held = await waitFor('a held booking', async () => {
      const out = await runCli(['bookings', '--json', '--status', 'active', '--server', `127.0.0.1:${grpcPort}`, '--data-dir', dataDir], { env: env(), reject: false });
      const rows = (JSON.parse(String(out.stdout || '{}')).bookings ?? []) as { bookingId: string; carId: string; status: string }[];
      return rows.find((b) => b.status === 'held') ?? false;
    }, 60_000);
    tmux('send-keys', '-t', name, '/');
    tmux('send-keys', '-t', name, '-l', held.carId);
    tmux('send-keys', '-t', name, 'Enter');
    tmux('send-keys', '-t', name, 'Enter');
    const detail = await waitFor('the car drill-down', () => (screen(name).includes(`Car ${held.carId}`) && /Booking held/.test(screen(name)) ? screen(name) : false), 20_000, name);
    expect(detail).toContain('Trend');
    expect(detail).toContain('Decisions');
    expect(detail).toMatch(/◉/);
    tmux('send-keys', '-t', name, 'x');
    await waitFor('the confirmation line', () => screen(name).includes(`Cancel ${held.carId}'s booking?`), 10_000, name);
    tmux('send-keys', '-t', name, 'y');
    const done = await waitFor('the action result', () => (/✓ cancel .*cancelled/.test(screen(name)) ? screen(name) : false), 20_000, name);
    expect(done).toContain(held.carId);
    const after = await runCli(['bookings', '--json', '--server', `127.0.0.1:${grpcPort}`, '--data-dir', dataDir], { env: env() });
    expect(String(after.stdout)).not.toContain(held.bookingId);
    tmux('send-keys', '-t', name, 'Escape');
    tmux('send-keys', '-t', name, '?');
    const help = await waitFor('help', () => (screen(name).includes('PgUp PgDn') ? screen(name) : false), 10_000, name);
    for (const k of ['Tab', 'Enter', 'cancel the selected car', 'request a booking', 'search cars and stations', 'critical only', 'pause / resume', 'follow the feed', 'quit']) expect(help).toContain(k);
    tmux('send-keys', '-t', name, '?');
    // SIGTERM: the terminal comes back too.
    process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGTERM');
    const gone = await waitFor('exit after SIGTERM', () => (/TAIL-EXIT=\d+/.test(screen(name)) ? screen(name) : false), 20_000, name);
    expect(gone).toContain('Session summary');
    expect(gone).not.toContain('Stations (');
  }, 180_000);

  it('200×60: the map and the lists use the room', async () => {
    const { name } = openConsole(200, 60);
    const s = await waitFor('every panel at 200×60', () => (panelsUp(screen(name)) && /Price /.test(screen(name)) ? screen(name) : false), 60_000, name);
    const mapWidth = (s.split('\n').find((l) => l.startsWith('╭')) ?? '').indexOf('╮');
    expect(mapWidth).toBeGreaterThan(100);
    for (let n = 1; n <= 14; n++) expect(s).toMatch(new RegExp(`\\s${n}\\s`));
    // o on the selected station: offline (confirmed), the server agrees, then back online.
    const offlineOf = async (id: string) => {
      const out = await runCli(['stations', 'list', '--json', '--server', `127.0.0.1:${grpcPort}`, '--data-dir', dataDir], { env: env() });
      const rows = JSON.parse(String(out.stdout)) as { stations?: { id: string; offline?: boolean }[] } | { id: string; offline?: boolean }[];
      const list = Array.isArray(rows) ? rows : (rows.stations ?? []);
      return list.find((r) => r.id === id)?.offline;
    };
    tmux('send-keys', '-t', name, 'o');
    const ask = await waitFor('the offline confirmation', () => /Take (\S+) offline\?/.exec(screen(name)) ?? false, 10_000, name);
    const stationId = ask[1]!;
    tmux('send-keys', '-t', name, 'y');
    await waitFor('the offline result', () => new RegExp(`✓ .*${stationId} offline, \\d+ bookings re-planned`).test(screen(name)), 20_000, name);
    await waitFor('OFFLINE in the stations panel', () => screen(name).includes('OFFLINE'), 10_000, name);
    expect(await offlineOf(stationId)).toBe(true);
    tmux('send-keys', '-t', name, 'o');
    await waitFor('the online confirmation', () => screen(name).includes(`Bring ${stationId} back online?`), 10_000, name);
    tmux('send-keys', '-t', name, 'y');
    await waitFor('the online result', () => new RegExp(`✓ .*${stationId} online, \\d+ ports`).test(screen(name)), 20_000, name);
    expect(await offlineOf(stationId)).toBeFalsy();
    tmux('send-keys', '-t', name, 'q');
  }, 180_000);
});
