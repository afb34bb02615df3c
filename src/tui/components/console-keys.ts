import type { Key } from 'ink';
import type { MutableRefObject } from 'react';
import type { CarHistory } from '../store/car-history.js';
import { askNearest, type NearestAnswer } from '../store/nearest.js';
import type { CarView, FleetStore } from '../store/types.js';
import type { ActionResult, OperatorDesk, StationCatalog } from '../sources/types.js';

export type PromptKind = 'nearest' | 'filter';
export type CarPending = { action: 'cancel' | 'book'; carId: string; stationId?: string };
export type Pending = CarPending | { action: 'offline' | 'online'; stationId: string };
export type Mode = { kind: 'normal' } | { kind: 'help' } | { kind: 'prompt'; prompt: PromptKind; value: string } | ({ kind: 'confirm'; question: string } & Pending);

export interface UiState {
  focus: 'stations' | 'cars';
  stationId?: string;
  carId?: string;
  detail: boolean;
  /** Feed lines scrolled back; 0 = following. */
  feedOffset: number;
  mode: Mode;
}

export interface KeyContext {
  store: FleetStore;
  desk?: OperatorDesk;
  nearest?: StationCatalog['nearest'];
  onQuit: () => void;
  cars: CarView[];
  stationId?: string;
  carId?: string;
  getUi: () => UiState;
  setUi: (ui: UiState) => void;
  setAnswer: (a: NearestAnswer | undefined) => void;
  setResult: (r: (ActionResult & { pending?: boolean }) | undefined) => void;
  asked: MutableRefObject<number>;
}

/** The station a car's last booking decision points at, while it holds, queues or charges. */
export function bookedStation(h: CarHistory | undefined): string | undefined {
  const last = h?.decisions.at(-1);
  return last && ['booking_confirmed', 'booking_queued', 'charging_started'].includes(last.type) ? last.stationId : undefined;
}

/**
 * Ink hands over a pasted or fast-typed run of plain characters ("40.75,-73.98\r") as one input;
 * replay it key by key so Enter, Backspace and commands inside it still count.
 */
export function replayInput(input: string, key: Key, handleKey: (input: string, key: Key) => void): void {
  if (input.length <= 1 || key.ctrl || key.meta || key.escape) return handleKey(input, key);
  for (const ch of input) {
    const plain = { ...key, return: false, backspace: false, delete: false };
    if (ch === '\r' || ch === '\n') handleKey('', { ...plain, return: true });
    else if (ch === '\x7f' || ch === '\b') handleKey('', { ...plain, backspace: true });
    else handleKey(ch, plain);
  }
}

/** Every key of the console (one input may carry several, see replayInput). */
export function consoleKey(ctx: KeyContext, input: string, key: Key): void {
  replayInput(input, key, (i, k) => handle(ctx, i, k));
}

function handle(ctx: KeyContext, input: string, key: Key): void {
  const ui = ctx.getUi();
  const set = (patch: Partial<UiState>) => ctx.setUi({ ...ctx.getUi(), ...patch });
  if (key.ctrl && input === 'c') return ctx.onQuit();
  if (ui.mode.kind === 'prompt') return promptKey(ctx, ui.mode, input, key, set);
  if (ui.mode.kind === 'confirm') {
    const pending = ui.mode;
    set({ mode: { kind: 'normal' } });
    if (input === 'y') void act(ctx, pending);
    else ctx.setResult({ ok: false, text: `${pending.action} ${'carId' in pending ? pending.carId : pending.stationId}: not done` });
    return;
  }
  if (key.escape) {
    ctx.asked.current++;
    ctx.setAnswer(undefined);
    return set({ mode: { kind: 'normal' }, detail: false });
  }
  if (key.upArrow || key.downArrow || input === 'j' || input === 'k') return move(ctx, key.upArrow || input === 'k' ? -1 : 1, set);
  if (key.pageUp) return set({ feedOffset: Math.min(ctx.store.getSnapshot().scrollback.length - 1, ui.feedOffset + 10) });
  if (key.pageDown) return set({ feedOffset: Math.max(0, ui.feedOffset - 10) });
  if (key.tab) return set({ focus: ui.focus === 'stations' ? 'cars' : 'stations' });
  if (key.return) return set({ detail: !ui.detail });
  commandKey(ctx, ui, input, set);
}

function commandKey(ctx: KeyContext, ui: UiState, input: string, set: (p: Partial<UiState>) => void): void {
  const snap = ctx.store.getSnapshot();
  switch (input) {
    case 'q':
      return ctx.onQuit();
    case 'n':
      return set({ mode: { kind: 'prompt', prompt: 'nearest', value: '' } });
    case '/':
      return set({ mode: { kind: 'prompt', prompt: 'filter', value: snap.filter.carId } });
    case 'c':
      return ctx.store.setFilter({ criticalOnly: !snap.filter.criticalOnly });
    case 'p':
      return ctx.store.setPaused(!snap.paused);
    case 'f':
      return set({ feedOffset: 0 });
    case '?':
      return set({ mode: ui.mode.kind === 'help' ? { kind: 'normal' } : { kind: 'help' } });
    case 'x':
    case 'b':
      return confirmAction(ctx, input === 'x' ? 'cancel' : 'book', set);
    case 'o':
      return confirmStation(ctx, set);
    default:
  }
}

function confirmAction(ctx: KeyContext, action: CarPending['action'], set: (p: Partial<UiState>) => void): void {
  if (!ctx.desk) return ctx.setResult({ ok: false, text: 'no server to act through (actions need the server: --server)' });
  const carId = ctx.carId;
  if (!carId) return ctx.setResult({ ok: false, text: 'select a car first (Tab, then ↑↓)' });
  const stationId = action === 'book' && ctx.getUi().focus === 'stations' ? ctx.stationId : undefined;
  const question = action === 'cancel' ? `Cancel ${carId}'s booking?` : `Request a booking for ${carId}${stationId ? ` at ${stationId}` : ' (the coordinator picks the station)'}?`;
  set({ mode: { kind: 'confirm', question, action, carId, stationId } });
}

/** o, in the stations list or a station's details: take the selected station offline, or back online. */
function confirmStation(ctx: KeyContext, set: (p: Partial<UiState>) => void): void {
  if (!ctx.desk) return ctx.setResult({ ok: false, text: 'no server to act through (actions need the server: --server)' });
  const station = ctx.getUi().focus === 'stations' ? ctx.store.getSnapshot().stations.find((s) => s.id === (ctx.getUi().stationId ?? ctx.stationId)) : undefined;
  if (!station) return ctx.setResult({ ok: false, text: 'select a station first (Tab to the stations, ↑↓)' });
  const action = station.offline ? 'online' : 'offline';
  const question = action === 'offline' ? `Take ${station.id} offline? Its holds, sessions and queue are re-planned elsewhere.` : `Bring ${station.id} back online?`;
  set({ mode: { kind: 'confirm', question, action, stationId: station.id } });
}

async function act(ctx: KeyContext, pending: Pending): Promise<void> {
  if (!('carId' in pending)) {
    ctx.setResult({ ok: true, pending: true, text: `${pending.stationId} going ${pending.action}…` });
    const res = await ctx.desk!.setStationOnline(pending.stationId, pending.action === 'online');
    ctx.setResult(res);
    ctx.store.note(`${res.ok ? '✓' : '✗'} operator ${res.text}`, res.ok ? 'info' : 'error');
    return;
  }
  const p: CarPending = pending;
  ctx.setResult({ ok: true, pending: true, text: `${p.action === 'cancel' ? 'cancelling' : 'booking'} ${p.carId}…` });
  const res = p.action === 'cancel' ? await ctx.desk!.cancelBooking(p.carId) : await ctx.desk!.requestBooking(p.carId, p.stationId);
  ctx.setResult(res);
  ctx.store.note(`${res.ok ? '✓' : '✗'} operator ${res.text}`, res.ok ? 'info' : 'error');
}

function move(ctx: KeyContext, by: number, set: (p: Partial<UiState>) => void): void {
  const ui = ctx.getUi();
  if (ui.focus === 'stations') {
    const list = ctx.store.getSnapshot().stations;
    // Keys can come faster than renders: the state's selection is newer than the render's.
    const i = Math.max(0, list.findIndex((s) => s.id === (ui.stationId ?? ctx.stationId)));
    const next = list[Math.max(0, Math.min(list.length - 1, i + by))];
    return set({ stationId: next?.id });
  }
  const i = Math.max(0, ctx.cars.findIndex((c) => c.carId === (ui.carId ?? ctx.carId)));
  set({ carId: ctx.cars[Math.max(0, Math.min(ctx.cars.length - 1, i + by))]?.carId });
}

function promptKey(ctx: KeyContext, mode: Extract<Mode, { kind: 'prompt' }>, input: string, key: Key, set: (p: Partial<UiState>) => void): void {
  if (key.escape) return set({ mode: { kind: 'normal' } });
  if (key.return) {
    set({ mode: { kind: 'normal' } });
    return submit(ctx, mode.prompt, mode.value, set);
  }
  if (key.backspace || key.delete) return set({ mode: { ...mode, value: mode.value.slice(0, -1) } });
  if (input && !key.ctrl && !key.meta) set({ mode: { ...mode, value: mode.value + input } });
}

function submit(ctx: KeyContext, prompt: PromptKind, value: string, set: (p: Partial<UiState>) => void): void {
  const now = ctx.store.getSnapshot();
  if (prompt === 'filter') {
    const q = value.trim().toLowerCase();
    ctx.store.setFilter({ carId: value.trim() });
    if (!q) return;
    // Search: a station whose name or id matches is selected; otherwise the first matching car.
    const station = now.stations.find((s) => s.id.toLowerCase().includes(q) || s.name.toLowerCase().includes(q));
    if (station) return set({ focus: 'stations', stationId: station.id });
    const car = [...now.cars.keys()].find((id) => id.toLowerCase().includes(q));
    if (car) set({ focus: 'cars', carId: car });
    return;
  }
  const id = ++ctx.asked.current;
  if (ctx.nearest) ctx.setAnswer({ ok: false, pending: true, error: `asking for "${value.trim()}"…` });
  void askNearest(value, { stations: now.stations, getCar: ctx.store.getCar, currentPrice: now.priceNow?.value, remote: ctx.nearest }).then((a) => {
    if (ctx.asked.current === id) ctx.setAnswer(a);
  });
}
