import { Box, useInput, type Key } from 'ink';
import { useRef, useState } from 'react';
import { useFleetSnapshot } from '../hooks/use-fleet-snapshot.js';
import { useTerminalSize } from '../hooks/use-terminal-size.js';
import type { FleetSnapshot, FleetStore } from '../store/types.js';
import { dashboardLayout, type DashboardLayout } from '../store/layout.js';
import { askNearest, type NearestAnswer as Answer } from '../store/nearest.js';
import type { StationCatalog } from '../sources/types.js';
import { CriticalAlert } from './CriticalAlert.js';
import { Feed } from './Feed.js';
import { FleetMap } from './FleetMap.js';
import { FleetSummary } from './FleetSummary.js';
import { Header } from './Header.js';
import { HelpPanel, KeyBar } from './HelpPanel.js';
import { NearestAnswer } from './NearestAnswer.js';
import { PricePanel } from './PricePanel.js';
import { QueryBox, type PromptKind } from './QueryBox.js';
import { StationsPanel } from './StationsPanel.js';

export interface AppProps {
  store: FleetStore;
  sourceLabel: string;
  showLag: boolean;
  onQuit: () => void;
  /** The server's nearest-station search; without it (or when it fails) `n` is answered locally. */
  nearest?: StationCatalog['nearest'];
}

type Mode = { kind: 'normal' } | { kind: 'help' } | { kind: 'prompt'; prompt: PromptKind; value: string };

/** The live ops screen: history above (<Static>), a dashboard below, keys for queries and filters. */
export function App({ store, sourceLabel, showLag, onQuit, nearest }: AppProps) {
  const snap = useFleetSnapshot(store);
  const { columns, rows } = useTerminalSize();
  const layout = dashboardLayout(columns, rows);
  const [mode, setModeState] = useState<Mode>({ kind: 'normal' });
  // Keys can arrive faster than React re-renders (typing, pasting): read the mode from a ref.
  const modeRef = useRef(mode);
  const setMode = (next: Mode) => {
    modeRef.current = next;
    setModeState(next);
  };
  const [answer, setAnswer] = useState<Answer | undefined>();
  // Only the latest question's answer is shown; a slow one arriving after a newer one (or Esc) is dropped.
  const asked = useRef(0);

  const submit = (prompt: PromptKind, value: string) => {
    setMode({ kind: 'normal' });
    if (prompt === 'filter') return store.setFilter({ carId: value.trim() });
    const now = store.getSnapshot();
    const id = ++asked.current;
    if (nearest) setAnswer({ ok: false, pending: true, error: `asking for "${value.trim()}"…` });
    void askNearest(value, { stations: now.stations, getCar: store.getCar, currentPrice: now.price?.price_per_kwh, remote: nearest }).then((a) => {
      if (asked.current === id) setAnswer(a);
    });
  };

  const handleKey = (input: string, key: Key) => {
    const current = modeRef.current;
    if (key.ctrl && input === 'c') return onQuit();
    if (current.kind === 'prompt') {
      if (key.escape) return setMode({ kind: 'normal' });
      if (key.return) return submit(current.prompt, current.value);
      if (key.backspace || key.delete) return setMode({ ...current, value: current.value.slice(0, -1) });
      if (input && !key.ctrl && !key.meta) setMode({ ...current, value: current.value + input });
      return;
    }
    if (key.escape) {
      asked.current++;
      setAnswer(undefined);
      return setMode({ kind: 'normal' });
    }
    const snapNow = store.getSnapshot();
    switch (input) {
      case 'q':
        return onQuit();
      case 'n':
        return setMode({ kind: 'prompt', prompt: 'nearest', value: '' });
      case '/':
        return setMode({ kind: 'prompt', prompt: 'filter', value: snapNow.filter.carId });
      case 'c':
        return store.setFilter({ criticalOnly: !snapNow.filter.criticalOnly });
      case 'p':
        return store.setPaused(!snapNow.paused);
      case '?':
        return setMode(current.kind === 'help' ? { kind: 'normal' } : { kind: 'help' });
      default:
    }
  };

  useInput((input, key) => replayInput(input, key, handleKey));

  return <Dashboard snap={snap} columns={columns} layout={layout} mode={mode} answer={answer} sourceLabel={sourceLabel} showLag={showLag} />;
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

interface DashboardProps {
  snap: FleetSnapshot;
  columns: number;
  layout: DashboardLayout;
  mode: Mode;
  answer: Answer | undefined;
  sourceLabel: string;
  showLag: boolean;
}

/** The screen for one snapshot: the feed history above (<Static>), the panels below. */
function Dashboard({ snap, columns, layout, mode, answer, sourceLabel, showLag }: DashboardProps) {
  return (
    <>
      <Feed feed={snap.feed} />
      <Box flexDirection="column" width={columns}>
        <Header label={sourceLabel} status={snap.status} rate={snap.rate} total={snap.total} lag={snap.lag} showLag={showLag} paused={snap.paused} pausedSkipped={snap.pausedSkipped} />
        <FleetSummary bands={snap.bands} criticalCount={snap.criticalCount} />
        <CriticalAlert critical={snap.critical} count={snap.criticalCount} />
        <Box>
          <FleetMap cars={snap.cars} stations={snap.stations} cols={layout.mapCols} rows={layout.mapRows} version={snap.version} />
          <Box flexDirection="column" marginLeft={2} width={layout.sideWidth}>
            <StationsPanel stations={snap.stations} currentPrice={snap.price?.price_per_kwh} maxRows={layout.stationRows - 2} width={layout.sideWidth} truth={snap.stationTruth} />
            <Box marginTop={1}>
              <PricePanel price={snap.price} forecast={snap.forecast} error={snap.priceError} width={layout.sideWidth} />
            </Box>
          </Box>
        </Box>
        {mode.kind === 'prompt' && <QueryBox kind={mode.prompt} value={mode.value} />}
        {mode.kind === 'help' && <HelpPanel />}
        {mode.kind === 'normal' && answer && <NearestAnswer answer={answer} />}
        <KeyBar criticalOnly={snap.filter.criticalOnly} carFilter={snap.filter.carId} />
      </Box>
    </>
  );
}
