import { Chalk } from 'chalk';
import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { stripVTControlCharacters as strip } from 'node:util';
import type { TelemetryEvent } from '../../src/domain/events.js';
import { App } from '../../src/tui/components/App.js';
import { CriticalAlert } from '../../src/tui/components/CriticalAlert.js';
import { FleetSummary } from '../../src/tui/components/FleetSummary.js';
import { Header, connectionText } from '../../src/tui/components/Header.js';
import { NearestAnswer } from '../../src/tui/components/NearestAnswer.js';
import { PricePanel } from '../../src/tui/components/PricePanel.js';
import { StationList, occupancyBar } from '../../src/tui/components/StationList.js';
import { bandColor, bandIcon, bandOf, isCritical } from '../../src/tui/store/bands.js';
import { createFleetStore, type CarView, type StationView } from '../../src/tui/store/fleet-store.js';
import { formatEventLine } from '../../src/tui/store/format.js';
import { answerNearest } from '../../src/tui/store/nearest.js';
import type { OperatorDesk } from '../../src/tui/sources/types.js';

const frame = (r: { lastFrame: () => string | undefined }) => strip(r.lastFrame() ?? '');
const tick = (ms = 50) => new Promise((r) => setTimeout(r, ms));
const tele = (car: string, battery: number, lat = 40.75, lon = -73.98): TelemetryEvent => ({ event_id: car + battery, event_type: 'telemetry', car_id: car, lat, lon, battery, velocity: 42.5, timestamp: Date.now() });
const car = (id: string, battery: number, lat = 40.75, lon = -73.98): CarView => ({ carId: id, lat, lon, battery, velocity: 0, timestamp: 0, band: bandOf(battery), critical: isCritical(battery) });
const station = (over: Partial<StationView> = {}): StationView => ({ id: 'ST-A', name: 'Alpha Garage', lat: 40.76, lon: -73.98, ports: 4, taken: 3, queue: 2, ...over });

describe('battery bands and colours (the original monitor)', () => {
  it('maps > 50 green, 20–50 yellow, < 20 red, < 15 critical', () => {
    expect([bandOf(50.1), bandOf(50), bandOf(20), bandOf(19.9), bandOf(0)]).toEqual(['green', 'yellow', 'yellow', 'red', 'red']);
    expect([isCritical(15), isCritical(14.9)]).toEqual([false, true]);
    expect(bandIcon).toEqual({ green: '🟢', yellow: '🟡', red: '🔴' });
    expect(bandColor).toEqual({ green: 'green', yellow: 'yellow', red: 'red' });
  });

  it('colours the battery in the event line by band and flags critical batteries', () => {
    const c = new Chalk({ level: 1 });
    expect(formatEventLine(tele('CAR-001', 85.3), c)).toContain('\u001b[32m 85.3%'); // green
    expect(formatEventLine(tele('CAR-001', 35), c)).toContain('\u001b[33m 35.0%'); // yellow
    expect(formatEventLine(tele('CAR-001', 12), c)).toContain('\u001b[31m 12.0%'); // red
    const plain = formatEventLine(tele('CAR-001', 12), new Chalk({ level: 0 }));
    expect(plain).toMatch(/^\[\d\d:\d\d:\d\d\] 🔴 CAR-001 \| Battery: {2}12\.0% \| Location: \(40\.7500, -73\.9800\) \| Speed: {2}42\.5 km\/h ⚠ CRITICAL BATTERY!$/);
    expect(formatEventLine(tele('CAR-001', 15), new Chalk({ level: 0 }))).not.toContain('CRITICAL');
  });

  it('styles booking and charging events apart from telemetry', () => {
    const c = new Chalk({ level: 1 });
    const charging = formatEventLine({ event_id: 'x', event_type: 'charging_started', car_id: 'CAR-9', station_id: 'ST-A', timestamp: 0 }, c);
    const booked = formatEventLine({ event_id: 'y', event_type: 'booking_confirmed', car_id: 'CAR-9', station_id: 'ST-A', price_rate: 0.31, timestamp: 0 }, c);
    expect(charging.startsWith('\u001b[35m')).toBe(true); // magenta
    expect(booked.startsWith('\u001b[36m')).toBe(true); // cyan
    expect(strip(booked)).toContain('🅿 CAR-9 | BOOKING_CONFIRMED | station ST-A | $0.31/kWh');
  });
});

describe('panels', () => {
  it('header shows source, connection state, rate, total and lag', () => {
    const r = render(<Header label="kafka fleet-events" status={{ state: 'reconnecting', attempt: 3, retryInMs: 2000, error: 'ECONNREFUSED' }} rate={1234.4} total={99} lag={17} showLag paused={false} pausedSkipped={0} />);
    // The state comes before the counters: a narrow terminal cuts the counters, never the state.
    expect(frame(r)).toMatch(/kafka fleet-events │ ⟳ reconnecting in 2.0 s \(attempt 3\): ECONNREFUSED │ 1234 ev\/s/);
    r.rerender(<Header label="kafka fleet-events" status={{ state: 'connected' }} rate={1234.4} total={99} lag={17} showLag paused={false} pausedSkipped={0} />);
    expect(frame(r)).toMatch(/kafka fleet-events │ ● connected │ 1234 ev\/s │ total 99 │ lag 17/);
    expect(connectionText({ state: 'reconnecting', attempt: 3, retryInMs: 2000, error: 'ECONNREFUSED' })).toBe('reconnecting in 2.0 s (attempt 3): ECONNREFUSED');
    r.rerender(<Header label="server" status={{ state: 'connected' }} rate={0} total={0} showLag={false} paused pausedSkipped={5} />);
    expect(frame(r)).toContain('● connected');
    expect(frame(r)).not.toContain('lag');
    expect(frame(r)).toContain('PAUSED (5 hidden)');
  });

  it('fleet summary counts cars per band and the critical ones', () => {
    const r = render(<FleetSummary bands={{ green: 12, yellow: 5, red: 3 }} criticalCount={2} />);
    expect(frame(r)).toContain('Fleet 20 cars  🟢 12 >50%  🟡 5 20–50%  🔴 3 <20%');
    expect(frame(r)).toContain('⚠ 2 critical (<15%)');
    r.rerender(<FleetSummary bands={{ green: 1, yellow: 0, red: 0 }} criticalCount={0} />);
    expect(frame(r)).toContain('no critical cars');
  });

  it('critical alert names the lowest cars and how many more', () => {
    const r = render(<CriticalAlert critical={[car('CAR-007', 3.2), car('CAR-001', 9)]} count={4} />);
    expect(frame(r)).toBe('⚠ CRITICAL BATTERY! CAR-007 3.2% · CAR-001 9.0% · +2 more');
    r.rerender(<CriticalAlert critical={[]} count={0} />);
    expect(frame(r)).toBe('');
  });

  it('station list numbers stations as the map does: occupancy bar, free/total, queue and the one price now', () => {
    expect(occupancyBar(3, 4)).toBe('████████░░');
    expect(occupancyBar(9, 4)).toBe('██████████');
    const r = render(<StationList stations={[station(), station({ id: 'B', name: 'Quiet', taken: 0, queue: 0 })]} selectedId="B" focused rows={5} width={60} priceNow={0.31} truth="live" />);
    const lines = frame(r).split('\n');
    expect(lines[0]).toBe('Stations (2) live · $0.31/kWh now');
    expect(lines[1]).toMatch(/^ 1 Alpha Garage\s+█{5}░\s+1\/4 free q2 *$/);
    expect(lines[2]).toMatch(/^ 2 Quiet\s+░{6}\s+4\/4 free q0 *$/);
  });

  it('price panel shows the current price and a 24 h sparkline, and tolerates a grid failure', () => {
    const point = (h: number, p: number) => ({ timestamp: h * 3_600_000, price_per_kwh: p, grid_load: 'Medium' as const, energy_source: 'Grid' as const, hour: h });
    const forecast = Array.from({ length: 24 }, (_, h) => point(h, 0.1 + h * 0.01));
    const r = render(<PricePanel price={point(18, 0.4)} forecast={forecast} width={60} />);
    expect(frame(r)).toContain('Price $0.40/kWh Medium load · Grid');
    expect(frame(r)).toMatch(/24h ▁[▁▂▃▄▅▆▇█]{22}█ \$0\.10–\$0\.33/);
    r.rerender(<PricePanel forecast={[]} error="ECONNREFUSED" width={60} />);
    expect(frame(r)).toContain('Price – (grid: ECONNREFUSED)');
  });

  it('nearest answer', () => {
    const answer = answerNearest('40.76,-73.98', { stations: [station(), station({ id: 'FAR', name: 'Far', lat: 40.84, taken: 4 })], getCar: () => undefined, currentPrice: 0.3 });
    const r = render(<NearestAnswer answer={answer} />);
    const text = frame(r);
    expect(text).toContain('Nearest stations to 40.7600, -73.9800');
    expect(text).toMatch(/1\. Alpha Garage\s+0\.00 km\s+~1 min\s+1 free\s+\$0\.30\/kWh/);
    // 8.90 km × 1.3 road factor at 18 km/h ≈ 38.6 min: the one drive-time model (src/domain/drive-time.ts).
    expect(text).toMatch(/2\. Far\s+8\.90 km\s+~39 min\s+0 free/);
    const missing = render(<NearestAnswer answer={answerNearest('CAR-404', { stations: [station()], getCar: () => undefined })} />);
    expect(frame(missing)).toContain('no position seen for CAR-404 yet');
  });
});

describe('App keys', () => {
  const setup = () => {
    const store = createFleetStore();
    store.setStations([
      { id: 'ST-A', name: 'Alpha Garage', lat: 40.76, lon: -73.98, ports: 4, powerKw: 150 },
      { id: 'ST-B', name: 'Beta Hub', lat: 40.8, lon: -73.95, ports: 2, powerKw: 50 },
    ]);
    store.ingest([tele('CAR-001', 80, 40.7601, -73.9801), tele('CAR-002', 9, 40.71, -74.0)]);
    store.flush();
    let quit = 0;
    const r = render(<App store={store} sourceLabel="test source" showLag={false} onQuit={() => quit++} />);
    return { store, r, quits: () => quit };
  };

  it('renders every panel together', async () => {
    const { r } = setup();
    await tick();
    const text = frame(r);
    for (const part of ['GreenLane │ test source', 'test source', 'Fleet 2 cars', '⚠ CRITICAL BATTERY! CAR-002 9.0%', 'Stations (2)', 'Alpha Garage', '◆', '●', 'n nearest']) expect(text).toContain(part);
  });

  it('n asks for a car id and answers with the nearest stations from its last position', async () => {
    const { r } = setup();
    await tick();
    r.stdin.write('n');
    await tick();
    for (const ch of 'car-001') r.stdin.write(ch);
    await tick();
    expect(frame(r)).toContain('Nearest stations to: car-001');
    r.stdin.write('\r');
    await tick();
    const text = frame(r);
    expect(text).toContain('Nearest stations to CAR-001 at 40.7601, -73.9801 (80.0%)');
    expect(text).toMatch(/1\. Alpha Garage\s+0\.01 km/);
    expect(text).toMatch(/2\. Beta Hub/);
  });

  it('handles a pasted query with Enter in the same chunk, and a command typed right after n', async () => {
    const { r } = setup();
    await tick();
    r.stdin.write('n40.7601,-73.9801\r');
    await tick();
    expect(frame(r)).toContain('Nearest stations to 40.7601, -73.9801');
    r.stdin.write('n40.7x\x7f6,-73.98\r');
    await tick();
    expect(frame(r)).toContain('Nearest stations to 40.7600, -73.9800');
  });

  it('c, /, p and ? drive the store and the screen; q quits', async () => {
    const { r, store, quits } = setup();
    await tick();
    r.stdin.write('c');
    await tick();
    expect(store.getSnapshot().filter.criticalOnly).toBe(true);
    r.stdin.write('/');
    await tick();
    for (const ch of '002') r.stdin.write(ch);
    r.stdin.write('\r');
    await tick();
    expect(store.getSnapshot().filter).toEqual({ criticalOnly: true, carId: '002' });
    r.stdin.write('p');
    await tick(150);
    expect(store.getSnapshot().paused).toBe(true);
    r.stdin.write('?');
    await tick(150);
    expect(frame(r)).toContain('pause / resume the feed');
    expect(frame(r)).toContain('PAUSED');
    r.stdin.write('q');
    await tick();
    expect(quits()).toBe(1);
  });

  it('o asks to confirm, takes the selected station offline through the desk, and the list shows it offline', async () => {
    const store = createFleetStore();
    store.setStations([{ id: 'ST-A', name: 'Alpha Garage', lat: 40.76, lon: -73.98, ports: 4, powerKw: 150 }]);
    store.flush();
    const calls: [string, boolean][] = [];
    const desk: OperatorDesk = {
      label: 'fake',
      listBookings: async () => ({ at: Date.now(), bookings: [] }),
      listSessions: async () => [],
      cancelBooking: async () => ({ ok: true, text: '' }),
      requestBooking: async () => ({ ok: true, text: '' }),
      setStationOnline: async (id, online) => (calls.push([id, online]), { ok: true, text: `${id} offline, 2 bookings re-planned` }),
    };
    const r = render(<App store={store} sourceLabel="test" showLag={false} onQuit={() => {}} desk={desk} />);
    await tick();
    r.stdin.write('o');
    await tick();
    expect(frame(r)).toContain('Take ST-A offline? Its holds, sessions and queue are re-planned elsewhere. y confirm');
    r.stdin.write('n');
    await tick();
    expect(calls).toEqual([]);
    r.stdin.write('o');
    await tick();
    r.stdin.write('y');
    await tick(100);
    expect(calls).toEqual([['ST-A', false]]);
    expect(frame(r)).toContain('✓ ST-A offline, 2 bookings re-planned');
    store.setStationOccupancy([{ id: 'ST-A', name: 'Alpha Garage', lat: 40.76, lon: -73.98, ports: 0, free: 0, holds: 0, charging: 0, queueLength: 0, powerKw: 150, pricePerKwh: 0.2, offline: true }]);
    store.flush();
    await tick(100);
    expect(frame(r)).toMatch(/1 Alpha Garage\s+OFFLINE\s+no ports/);
    r.stdin.write('o');
    await tick();
    expect(frame(r)).toContain('Bring ST-A back online?');
  });
});
