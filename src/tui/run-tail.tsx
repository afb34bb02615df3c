import chalk, { Chalk } from 'chalk';
import { render } from 'ink';
import type { FleetEvent } from '../domain/events.js';
import { App } from './components/App.js';
import { bindTextMeasureCache } from './ink-text-cache.js';
import { StationsUnavailableError } from './sources/live-stations.js';
import type { StationCatalog, TailSources, SourceStatus } from './sources/types.js';
import { createFleetStore, type FleetStore, type FleetStoreOptions } from './store/fleet-store.js';
import { connectionText } from './components/Header.js';
import { ConfigError } from '../errors.js';
import { formatEventLine, formatSummary, summarize, type SessionSummary } from './store/format.js';

export type TailOutput = 'tui' | 'plain' | 'json';

/** How often the console redraws for new data (keys redraw at once, up to Ink's 10 frames a second). */
export const DATA_FRAME_MS = 500;

export interface TailSessionOptions {
  sources: TailSources;
  output: TailOutput;
  /** Stop after this many events. */
  limit?: number;
  /** Stop after this many seconds. */
  durationSec?: number;
  /** Stops the session (e.g. SIGINT/SIGTERM). */
  signal?: AbortSignal;
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
  stdin?: NodeJS.ReadStream;
  priceRefreshMs?: number;
  /** How often live station occupancy is asked for (default 2 s). */
  stationPollMs?: number;
  forecastHours?: number;
  store?: FleetStoreOptions;
  /** Colour plain lines (default: when stdout is a TTY). */
  color?: boolean;
}

export interface TailResult extends SessionSummary {
  reason: 'quit' | 'limit' | 'duration' | 'signal';
}

/**
 * Runs one `greenlane tail` session: starts the sources, feeds the store, renders the TUI or
 * writes plain/NDJSON lines, stops on q/limit/duration/signal and returns the session summary.
 */
export async function runTail(opts: TailSessionOptions): Promise<TailResult> {
  const stdout = opts.stdout ?? process.stdout;
  const stderr = opts.stderr ?? process.stderr;
  // Two data frames a second (as btop and k9s refresh): Ink redraws the whole screen each time.
  const store = createFleetStore({ flushIntervalMs: DATA_FRAME_MS, ...opts.store });
  const startedAt = Date.now();
  let stop!: (reason: TailResult['reason']) => void;
  const stopped = new Promise<TailResult['reason']>((r) => (stop = r));
  let total = 0;
  let stopping = false;

  const writer = opts.output === 'tui' ? undefined : createLineWriter(stdout, opts.output, opts.color ?? Boolean(stdout.isTTY));
  const onEvents = (events: FleetEvent[]): void | Promise<void> => {
    if (opts.limit !== undefined) {
      const room = opts.limit - total;
      if (room <= 0) return;
      if (events.length > room) events = events.slice(0, room);
    }
    total += events.length;
    store.ingest(events);
    const pending = writer?.write(events);
    if (opts.limit !== undefined && total >= opts.limit) stop('limit');
    return pending;
  };
  let fatal: string | undefined;
  const onStatus = (s: SourceStatus) => {
    store.setStatus(s);
    if (s.fatal) {
      fatal = s.error ?? 'refused';
      stop('quit');
    }
    if (writer && s.state !== 'connected' && s.state !== 'stopped') stderr.write(`${opts.sources.events.label}: ${connectionText(s)}\n`);
    if (writer && s.state === 'connected') stderr.write(`${opts.sources.events.label}: connected\n`);
  };

  const timers: ReturnType<typeof setTimeout>[] = [];
  if (opts.durationSec !== undefined) timers.push(setTimeout(() => stop('duration'), opts.durationSec * 1000));
  opts.signal?.addEventListener('abort', () => stop('signal'), { once: true });
  if (opts.signal?.aborted) stop('signal');

  let stopPolling = () => {};
  const stationsLoaded = loadStations(opts.sources, store);
  const catalog = opts.sources.stations;
  if (catalog?.live && opts.output === 'tui') {
    void stationsLoaded.then(() => {
      if (!stopping) stopPolling = pollStationOccupancy(catalog, store, opts.stationPollMs ?? 2_000);
    });
  }
  if (opts.sources.prices && opts.output === 'tui') timers.push(startPriceRefresh(opts, store));

  const ink = opts.output === 'tui' ? mountTui(opts, store, () => stop('quit')) : undefined;
  // Under React's development build (tests, NODE_ENV=development) every render leaves a performance
  // measure that holds its props; drop them so a long session does not grow without bound.
  if (ink) timers.push(setInterval(clearRenderMeasures, 2_000));

  await opts.sources.events.start({ onEvents, onStatus, onInvalid: (n) => store.countInvalid(n), onLag: (lag) => store.setLag(lag) });
  const reason = await stopped;
  const endedAt = Date.now();
  stopping = true;
  stopPolling();
  for (const t of timers) clearTimeout(t);
  await Promise.all([opts.sources.events.stop(), catalog?.close?.(), opts.sources.desk?.close?.()]);
  await writer?.drained();
  if (ink) {
    store.flush();
    ink.unmount();
    await ink.waitUntilExit().catch(() => {});
    ink.restore();
  }
  store.dispose();
  if (fatal !== undefined) {
    throw new ConfigError(`${opts.sources.events.label}: ${fatal}`, [
      'Check the token: --token, GREENLANE_API_TOKEN, or the dev token in --data-dir for an embedded server (`greenlane up` prints where).',
    ]);
  }
  const summary = summarize(total, startedAt, endedAt);
  // Plain and NDJSON keep stdout for events only; the summary goes to stderr there.
  (opts.output === 'tui' ? stdout : stderr).write(formatSummary(summary) + '\n');
  return { ...summary, reason };
}

/** Refreshes the price panel now and every priceRefreshMs; returns the timer. */
function startPriceRefresh(opts: TailSessionOptions, store: FleetStore): ReturnType<typeof setInterval> {
  const refresh = () => void refreshPrices(opts.sources, store, opts.forecastHours ?? 24);
  refresh();
  return setInterval(refresh, opts.priceRefreshMs ?? 60_000);
}

function clearRenderMeasures(): void {
  performance.clearMeasures();
  performance.clearMarks();
}

/** Switches a terminal to its alternate screen; the returned function switches back (once). */
export function enterAlternateScreen(stdout: NodeJS.WriteStream): () => void {
  let restored = false;
  // A resize reflows what is on screen; Ink's next frame only rewrites the lines it drew, so start clean.
  const clear = () => stdout.write('\x1b[2J\x1b[H');
  stdout.on('resize', clear);
  const restore = () => {
    if (restored) return;
    restored = true;
    process.off('exit', restore);
    stdout.off('resize', clear);
    // Show the cursor, leave the alternate screen: the shell's screen comes back as it was.
    stdout.write('\x1b[?25h\x1b[?1049l');
  };
  stdout.write('\x1b[?1049h\x1b[H');
  // A crash or process.exit() skips the normal path; 'exit' still runs (synchronous writes to a TTY).
  process.on('exit', restore);
  return restore;
}

/** Renders the console full screen on the session's streams; q calls onQuit. */
function mountTui(opts: TailSessionOptions, store: FleetStore, onQuit: () => void) {
  const { events, stations, desk } = opts.sources;
  const stdout = opts.stdout ?? process.stdout;
  const restore = enterAlternateScreen(stdout);
  const ink = render(<App store={store} sourceLabel={events.label} showLag={events.kind === 'kafka'} onQuit={onQuit} nearest={stations?.nearest} desk={desk} />, {
    stdout,
    stderr: opts.stderr ?? process.stderr,
    // Ink spreads options over its defaults, so an undefined stdin would replace process.stdin.
    stdin: opts.stdin ?? process.stdin,
    exitOnCtrlC: false,
    patchConsole: false,
    maxFps: 10,
  });
  // Ink's own text measurement caches every string it ever drew; swap in bounded ones.
  void bindTextMeasureCache(stdout);
  return Object.assign(ink, { restore });
}

/** Writes events as lines, honouring backpressure so a slow pipe slows the source, not memory. */
function createLineWriter(stdout: NodeJS.WritableStream, output: 'plain' | 'json', color: boolean) {
  const c = new Chalk({ level: color ? chalk.level || 1 : 0 });
  let waiting: Promise<void> | undefined;
  return {
    write(events: FleetEvent[]): Promise<void> | undefined {
      const text = events.map((e) => (output === 'json' ? JSON.stringify(e) : formatEventLine(e, c))).join('\n') + '\n';
      if (stdout.write(text)) return undefined;
      waiting ??= new Promise<void>((r) => stdout.once('drain', () => ((waiting = undefined), r())));
      return waiting;
    },
    drained: () => waiting ?? Promise.resolve(),
  };
}

async function loadStations(sources: TailSources, store: FleetStore) {
  if (!sources.stations) return;
  try {
    store.setStations(await sources.stations.list());
  } catch (err) {
    store.note(`stations unavailable: ${(err as Error).message}`, 'warn');
  }
}

/**
 * Asks for live station occupancy every `everyMs` (one request at a time). When it cannot be had,
 * says so once and leaves occupancy to events; asks on unless the failure is permanent.
 */
export function pollStationOccupancy(catalog: StationCatalog, store: FleetStore, everyMs: number): () => void {
  const label = catalog.liveLabel ?? 'the server';
  let state: 'unknown' | 'live' | 'failing' = 'unknown';
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const poll = async () => {
    try {
      const rows = await catalog.live!();
      if (!rows.length) throw new StationsUnavailableError(`${label} knows no stations`);
      if (stopped) return;
      store.setStationOccupancy(rows);
      if (state === 'failing') store.note(`✓ live station occupancy from ${label} again`, 'info');
      state = 'live';
    } catch (err) {
      if (stopped) return;
      const permanent = err instanceof StationsUnavailableError && err.permanent;
      if (state !== 'failing') {
        store.note(`stations: no live occupancy from ${label} (${(err as Error).message}); showing the stations file and events${permanent ? '' : ', asking again'}`, 'warn');
        store.setStationsEventsOnly();
      }
      state = 'failing';
      if (permanent) return;
    }
    if (!stopped) timer = setTimeout(() => void poll(), everyMs);
  };
  void poll();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

async function refreshPrices(sources: TailSources, store: FleetStore, hours: number) {
  const [current, forecast] = await Promise.allSettled([sources.prices!.current(), sources.prices!.forecast(hours)]);
  const failed = [current, forecast].find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
  store.setPrices(
    current.status === 'fulfilled' ? current.value : undefined,
    forecast.status === 'fulfilled' ? forecast.value : undefined,
    failed ? shortError(failed.reason) : undefined,
  );
}

function shortError(err: unknown): string {
  const e = err as Error & { cause?: { code?: string } };
  return e.cause?.code ?? e.message ?? String(err);
}
