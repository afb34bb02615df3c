import { Text, useInput, type Key } from 'ink';
import { useMemo, useRef, useState } from 'react';
import { useDeskData } from '../hooks/use-desk-data.js';
import { useFleetSnapshot } from '../hooks/use-fleet-snapshot.js';
import { useTerminalSize } from '../hooks/use-terminal-size.js';
import type { ActionResult, OperatorDesk, StationCatalog } from '../sources/types.js';
import { consoleLayout } from '../store/console-layout.js';
import type { NearestAnswer as Answer } from '../store/nearest.js';
import type { CarView, FleetSnapshot, FleetStore } from '../store/types.js';
import { Console } from './Console.js';
import { CarDetail, StationDetail } from './Detail.js';
import { ConsoleHelp, ConsoleKeyBar } from './ConsoleHelp.js';
import { NearestAnswer } from './NearestAnswer.js';
import { bookedStation, consoleKey, type UiState } from './console-keys.js';

export interface AppProps {
  store: FleetStore;
  sourceLabel: string;
  showLag: boolean;
  onQuit: () => void;
  /** The server's nearest-station search; without it (or when it fails) `n` is answered locally. */
  nearest?: StationCatalog['nearest'];
  /** Drill-down queries and operator actions; without it the detail shows events only and actions are off. */
  desk?: OperatorDesk;
}

export { replayInput } from './console-keys.js';

/** Cars for the side list: the search's matches or critical ones when filtered, lowest battery first. */
export function carList(snap: FleetSnapshot, limit = 200): CarView[] {
  const { carId, criticalOnly } = snap.filter;
  const needle = carId.toLowerCase();
  const out: CarView[] = [];
  for (const c of snap.cars.values()) if ((!criticalOnly || c.critical) && (!needle || c.carId.toLowerCase().includes(needle))) out.push(c);
  return out.sort((a, b) => a.battery - b.battery || a.carId.localeCompare(b.carId)).slice(0, limit);
}

/** The full-screen ops console: panels, selection and drill-down, operator actions, feed scrollback. */
export function App({ store, sourceLabel, showLag, onQuit, nearest, desk }: AppProps) {
  const snap = useFleetSnapshot(store);
  const { columns, rows } = useTerminalSize();
  const layout = consoleLayout(columns, rows);
  const [ui, setUiState] = useState<UiState>({ focus: 'stations', detail: false, feedOffset: 0, mode: { kind: 'normal' } });
  // Keys can arrive faster than React re-renders (typing, pasting): read the state from a ref.
  const uiRef = useRef(ui);
  const setUi = (next: UiState) => {
    uiRef.current = next;
    setUiState(next);
  };
  const [answer, setAnswer] = useState<Answer | undefined>();
  const [result, setResult] = useState<(ActionResult & { pending?: boolean }) | undefined>();
  const asked = useRef(0);
  const cars = useMemo(() => carList(snap), [snap.version, snap.filter]);
  const numberOf = useMemo(() => new Map(snap.stations.map((s, i) => [s.id, i + 1])), [snap.stations]);
  const stationId = ui.stationId ?? snap.stations[0]?.id;
  const carId = ui.carId ?? cars[0]?.carId;
  const car = carId ? store.getCar(carId) : undefined;
  const history = carId ? store.getCarHistory(carId) : undefined;
  const data = useDeskData(desk, ui.detail, ui.focus === 'stations' ? stationId : undefined);

  const ctx = { store, desk, nearest, onQuit, cars, stationId, carId, setUi, getUi: () => uiRef.current, setAnswer, setResult, asked };
  useInput((input, key: Key) => consoleKey(ctx, input, key));

  const booking = data.bookings?.bookings.find((b) => b.carId === carId);
  const linked = booking?.stationId ?? bookedStation(history);
  const station = snap.stations.find((s) => s.id === stationId);
  const num = (id: string | null | undefined) => (id && numberOf.has(id) ? `#${numberOf.get(id)}` : '');
  let side;
  if (ui.detail && ui.focus === 'stations' && station) side = <StationDetail station={station} n={numberOf.get(station.id) ?? 0} data={data} now={snap.now} priceNow={snap.priceNow?.value} forecast={snap.forecast} rows={layout.bodyRows} />;
  else if (ui.detail && ui.focus === 'cars' && car) side = <CarDetail car={car} history={history} booking={booking} data={data} rows={layout.bodyRows} stationNumber={num} />;
  const mapStations = snap.stations.map((s, i) => ({ n: i + 1, lat: s.lat, lon: s.lon, full: s.ports > 0 && s.taken >= s.ports, selected: ui.focus === 'stations' && s.id === stationId }));
  const selectedOnMap = ui.focus === 'cars' && car ? { lat: car.lat, lon: car.lon, station: linked ? numberOf.get(linked) : undefined } : undefined;
  const carsTitle = `Cars (${cars.length}${snap.filter.criticalOnly ? ' critical' : ''}${snap.filter.carId ? ` ~ "${snap.filter.carId}"` : ''}) lowest battery first`;
  return (
    <Console
      snap={snap}
      layout={layout}
      sourceLabel={sourceLabel}
      showLag={showLag}
      focus={ui.focus}
      stationId={stationId}
      carId={carId}
      cars={cars}
      carsTitle={carsTitle}
      mapStations={mapStations}
      selectedOnMap={selectedOnMap}
      feedOffset={ui.feedOffset}
      side={side}
      overlay={ui.mode.kind === 'help' ? <ConsoleHelp canAct={Boolean(desk)} /> : ui.mode.kind !== 'confirm' && answer ? <NearestAnswer answer={answer} /> : undefined}
      actionLine={<ActionLine ui={ui} result={result} />}
      keyBar={<ConsoleKeyBar criticalOnly={snap.filter.criticalOnly} search={snap.filter.carId} detail={ui.detail} />}
    />
  );
}

const promptTitle = { nearest: 'Nearest stations to', filter: 'Search cars and stations' } as const;

function ActionLine({ ui, result }: { ui: UiState; result?: ActionResult & { pending?: boolean } }) {
  const m = ui.mode;
  if (m.kind === 'prompt')
    return (
      <Text wrap="truncate">
        <Text bold color="cyan">{promptTitle[m.prompt]}: </Text>
        {m.value}
        <Text inverse> </Text>
        <Text dimColor>  Enter · Esc</Text>
      </Text>
    );
  if (m.kind === 'confirm')
    return (
      <Text wrap="truncate" color="yellow" bold>
        {m.question} y confirm · n/Esc cancel
      </Text>
    );
  if (result) return <Text wrap="truncate" color={result.pending ? 'yellow' : result.ok ? 'green' : 'red'}>{result.pending ? '… ' : result.ok ? '✓ ' : '✗ '}{result.text}</Text>;
  return <Text dimColor wrap="truncate">Tab switches stations/cars · ↑↓ j k select · Enter details</Text>;
}
