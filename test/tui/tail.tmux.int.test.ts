import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithEngine } from '../helpers/infra.js';
import { canConnect, freePort, sleep } from '../helpers/net.js';
import { cliArgv, repoRoot, type CliTarget } from '../helpers/run-cli.js';

/**
 * End to end: an embedded `greenlane up`, a low-battery `greenlane sim`, and `greenlane tail` in a
 * real terminal (tmux 160×50). Asserts what an operator sees: cars, a critical alert, stations
 * with ports taken (polled from the server), a nearest-station answer from the server after `n`,
 * and the session summary after `q`.
 */
const root = repoRoot;
// The built CLI when it is fresh, else the same entry point over the sources (tsx).
const builtFresh = existsSync(join(root, 'dist/commands/tail.js')) && statSync(join(root, 'dist/commands/tail.js')).mtimeMs >= statSync(join(root, 'src/commands/tail.ts')).mtimeMs;
const target: CliTarget = { entry: builtFresh ? 'run' : 'dev', tsx: false };
const session = `greenlane-tail-e2e-${process.pid}`;
const children: ChildProcess[] = [];
let dataDir = '';
let grpcPort = 0;
let gridPort = 0;

async function waitFor<T>(what: string, probe: () => T | false | Promise<T | false>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  let last: T | false | undefined;
  while (Date.now() < end) {
    last = await probe();
    if (last) return last;
    await sleep(250);
  }
  // The pane is the evidence: show it instead of the probe's `false`.
  let pane = '';
  try {
    pane = screen();
  } catch {
    /* no session yet */
  }
  throw new Error(`timed out waiting for ${what}; last: ${typeof last === 'string' ? last : JSON.stringify(last)}\n--- screen ---\n${pane}`);
}

const ENGINE_VARS = ['GREENLANE_KAFKA_BROKERS', 'GREENLANE_REDIS_URL', 'GREENLANE_DATABASE_URL', 'GREENLANE_NAMESPACE'];

/** The CLI with engines unset (embedded mode) and this test's data dir. */
function cli(args: string[]): ChildProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, GREENLANE_DATA_DIR: dataDir, GREENLANE_LOG_LEVEL: 'warn' };
  for (const k of ENGINE_VARS) delete env[k];
  const [node, ...argv] = cliArgv(args, target);
  const child = spawn(node, argv, { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  child.on('exit', (code) => code && code !== 130 && code !== 143 && process.stderr.write(`greenlane ${args[0]} exited ${code}: ${stderr}\n`));
  children.push(child);
  return child;
}
const tmux = (...args: string[]) => execFileSync('tmux', args, { encoding: 'utf8' });
const screen = () => tmux('capture-pane', '-p', '-t', session);

await describeWithEngine('tmux', async () => void execFileSync('tmux', ['-V']), 'greenlane tail in a terminal', () => {
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'greenlane-tail-e2e-'));
    [grpcPort, gridPort] = [await freePort(), await freePort()];
    const metricsPort = await freePort();
    cli(['up', '--ephemeral', '--grpc-port', String(grpcPort), '--grid-port', String(gridPort), '--metrics-port', String(metricsPort), '--data-dir', dataDir]);
    await waitFor('greenlane up to listen', () => canConnect(grpcPort), 90_000);
    await waitFor('the dev token', () => existsSync(join(dataDir, 'dev-token')));
    cli(['sim', '--cars', '20', '--battery', '8-20', '--server', `127.0.0.1:${grpcPort}`, '--data-dir', dataDir]);
  }, 120_000);

  afterAll(async () => {
    try {
      tmux('kill-session', '-t', session);
    } catch {
      /* already gone */
    }
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    await sleep(500);
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('shows cars, a critical alert and a nearest-station answer, and prints the summary on q', async () => {
    // tmux gives the pane the tmux server's environment, not this process's: unset the engines explicitly
    // (CI runs this suite with GREENLANE_KAFKA_BROKERS & co. set) so tail watches the embedded server.
    const unset = ['CI', ...ENGINE_VARS].flatMap((k) => ['-u', k]);
    const tail = ['env', ...unset, `GREENLANE_DATA_DIR=${dataDir}`, ...cliArgv(['tail', '--server', `127.0.0.1:${grpcPort}`, '--grid-url', `http://127.0.0.1:${gridPort}`], target)];
    // `; sleep` keeps the pane after tail exits so the summary can be read.
    tmux('new-session', '-d', '-s', session, '-x', '160', '-y', '50', `${tail.map((a) => `'${a}'`).join(' ')}; sleep 60`);

    const live = await waitFor('cars and a critical alert on screen', () => {
      const s = screen();
      return /CAR-0\d\d/.test(s) && s.includes('CRITICAL BATTERY!') && /● connected/.test(s) && /Fleet \d+ cars/.test(s) ? s : false;
    }, 60_000);
    expect(live).toMatch(/⚠ \d+ critical \(<15%\)/);
    expect(live).toContain('Stations (');
    // Cars at 8–20 % book within seconds; the panel polls ListStations, so held ports show.
    const taken = await waitFor('a station with a taken port, live from the server', () => {
      const s = screen();
      return /Stations \(\d+(, \d+ full)?\) live/.test(s) && /█+░*\s+\d+\/\d+ free\s+q\d+/.test(s) ? s : false;
    }, 30_000);
    expect(taken).not.toContain('no live occupancy');

    tmux('send-keys', '-t', session, 'n');
    await waitFor('the query box', () => screen().includes('Nearest stations to:'));
    tmux('send-keys', '-t', session, '-l', '40.758,-73.985');
    tmux('send-keys', '-t', session, 'Enter');
    const answer = await waitFor('a nearest-station answer', () => (screen().includes('Nearest stations to 40.7580, -73.9850') ? screen() : false));
    expect(answer).toContain('(server search; free ports now');
    expect(answer).toMatch(/1\. .+\s+\d+\.\d\d km\s+~\d+ min\s+\d+ free\s+\$\d\.\d\d\/kWh/);
    expect(answer).toMatch(/5\. /);

    tmux('send-keys', '-t', session, 'q');
    const summary = await waitFor('the session summary', () => (screen().includes('Session summary') ? screen() : false));
    const events = Number(/Events:\s+(\d+)/.exec(summary)?.[1]);
    expect(events).toBeGreaterThan(0);
    expect(summary).toMatch(/Duration:\s+\d+\.\d s/);
    expect(summary).toMatch(/Events\/s:\s+\d+\.\d/);
  }, 150_000);
});
