import { Box, Text } from 'ink';
import type { PricePoint } from '../../ports/price-source.js';
import type { SessionRow } from '../../ports/store.js';
import type { BookingList, BookingListRow } from '../../services/queries/fleet-queries.js';
import type { CarHistory } from '../store/car-history.js';
import { bandColor } from '../store/bands.js';
import { sparkline } from '../store/sparkline.js';
import type { CarView, StationView } from '../store/types.js';

/** What the drill-down has fetched from the server (ListBookings, ListSessions), with when. */
export interface DeskData {
  bookings?: BookingList;
  sessions?: SessionRow[];
  fetchedAt: number;
  error?: string;
}

/** A countdown or a duration: 42s, 18m34s, 2h05m. */
export function secs(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
const time = (ms: number) => new Date(ms).toISOString().slice(11, 19);

/** The first forecast hour at least 10 % cheaper than now, or the cheapest one. */
export function nextCheapWindow(forecast: PricePoint[], now: number | undefined): PricePoint | undefined {
  if (!forecast.length) return undefined;
  const cheaper = now !== undefined ? forecast.find((p) => p.price_per_kwh <= now * 0.9) : undefined;
  return cheaper ?? forecast.reduce((a, b) => (b.price_per_kwh < a.price_per_kwh ? b : a));
}

export interface StationDetailProps {
  station: StationView;
  n: number;
  data: DeskData;
  now: number;
  priceNow?: number;
  forecast: PricePoint[];
  rows: number;
}

/** A station: ports, holds with countdowns, charging sessions, its queue by urgency, price now and the next cheap window. */
export function StationDetail({ station: s, n, data, now, priceNow, forecast, rows }: StationDetailProps) {
  const all = data.bookings?.bookings ?? [];
  const skew = data.bookings ? data.bookings.at - data.fetchedAt : 0;
  const serverNow = now + skew;
  const holds = all.filter((b) => b.stationId === s.id && b.status === 'held');
  const charging = all.filter((b) => b.stationId === s.id && b.status === 'charging');
  const queue = all.filter((b) => b.status === 'queued' && (b.stationId === s.id || b.candidates.includes(s.id))).sort((a, b) => a.queuePosition - b.queuePosition);
  const cheap = nextCheapWindow(forecast, priceNow);
  const lines: React.ReactNode[] = [
    s.offline ? (
      <Text key="ports" color="red" bold wrap="truncate">
        OFFLINE · o brings it back online
      </Text>
    ) : (
      <Text key="ports" wrap="truncate">
        Ports {s.ports || '?'} · taken {s.taken} · free {s.ports ? Math.max(0, s.ports - s.taken) : '?'} · queue {s.queue} <Text dimColor>· o offline</Text>
      </Text>
    ),
    <Text key="price">
      Price now {priceNow !== undefined ? `$${priceNow.toFixed(2)}/kWh` : '–'}
      <Text dimColor>{cheap ? ` · next cheap ${time(cheap.timestamp)} $${cheap.price_per_kwh.toFixed(2)}` : ''}</Text>
    </Text>,
    <Text key="h" bold>Holds ({holds.length})</Text>,
    ...holds.map((b) => <Text key={`h${b.bookingId}`}>  {b.carId.padEnd(10)} {`${b.battery.toFixed(0)}%`.padStart(4)} expires in {b.expiresAt ? secs(b.expiresAt - serverNow) : '–'}</Text>),
    <Text key="c" bold>Charging ({charging.length})</Text>,
    ...charging.map((b) => <Text key={`c${b.bookingId}`}>  {b.carId.padEnd(10)} {`${b.battery.toFixed(0)}%`.padStart(4)} for {b.chargingSince ? secs(serverNow - b.chargingSince) : '–'}</Text>),
    <Text key="q" bold>Queue ({queue.length}) <Text dimColor>in order, urgency = battery</Text></Text>,
    ...queue.map((b) => <Text key={`q${b.bookingId}`}>  {String(b.queuePosition).padStart(2)}. {b.carId.padEnd(10)} <Text color={b.critical ? 'red' : undefined}>{`${b.battery.toFixed(0)}%`.padStart(4)}{b.critical ? ' critical' : ''}</Text> waiting {b.waitingSince ? secs(serverNow - b.waitingSince) : '–'}</Text>),
    <Text key="s" bold>Recent sessions</Text>,
    ...(data.sessions ?? []).slice(0, 5).map((x) => <Text key={x.sessionId} dimColor>  {x.carId.padEnd(10)} {time(x.time)} {x.kwhUsage.toFixed(1)} kWh {x.cost !== null ? `$${x.cost.toFixed(2)}` : 'charging'}</Text>),
  ];
  return (
    <DetailBox title={`Station ${n} · ${s.name} (${s.id})`} error={data.error} rows={rows} hint="Esc back">
      {lines}
    </DetailBox>
  );
}

export interface CarDetailProps {
  car: CarView;
  history?: CarHistory;
  booking?: BookingListRow;
  data: DeskData;
  rows: number;
  stationNumber: (id: string | null | undefined) => string;
}

/** A car: battery trend, state, its booking and the coordinator's decisions with their reasons. */
export function CarDetail({ car, history, booking, data, rows, stationNumber }: CarDetailProps) {
  const lines: React.ReactNode[] = [
    <Text key="state">
      Battery <Text color={bandColor[car.band]}>{car.battery.toFixed(1)}%</Text>{car.critical ? <Text color="red"> ⚠ critical</Text> : ''} · {car.velocity.toFixed(0)} km/h · {car.lat.toFixed(4)}, {car.lon.toFixed(4)}
    </Text>,
    <Text key="trend">
      Trend <Text color="cyan">{sparkline(history?.trend ?? [])}</Text>
      <Text dimColor> {history?.trend.length ? `${history.trend[0].toFixed(0)}% → ${history.trend.at(-1)!.toFixed(0)}%` : 'collecting'}</Text>
    </Text>,
    booking ? (
      <Text key="b">
        Booking <Text bold>{booking.status}</Text> at {stationNumber(booking.stationId)} {booking.stationId ?? ''} <Text dimColor>({booking.bookingId})</Text>
      </Text>
    ) : (
      <Text key="b" dimColor>
        No active booking{data.bookings ? '' : ' (asking the server…)'}
      </Text>
    ),
    <Text key="d" bold>Decisions</Text>,
    ...(history?.decisions.length ? [] : [<Text key="none" dimColor>  none seen since tail started</Text>]),
    ...[...(history?.decisions ?? [])].reverse().map((d, i) => (
      <Text key={`d${i}`} wrap="truncate">
        {'  '}
        {time(d.at)} {d.type.replace(/^booking_/, '')} {d.stationId ? `at ${stationNumber(d.stationId)} ${d.stationId}` : ''}
        <Text dimColor>{d.reason ? ` — ${d.reason}` : ''}{d.price !== undefined ? ` $${d.price.toFixed(2)}` : ''}</Text>
      </Text>
    )),
  ];
  return (
    <DetailBox title={`Car ${car.carId}`} error={data.error} rows={rows} hint="x cancel booking · b book · Esc back">
      {lines}
    </DetailBox>
  );
}

function DetailBox({ title, error, rows, hint, children }: { title: string; error?: string; rows: number; hint: string; children: React.ReactNode[] }) {
  return (
    <Box flexDirection="column" borderStyle="round" borderColor="cyan" height={rows} overflow="hidden">
      <Text bold color="cyan" wrap="truncate">
        {title} <Text dimColor>{hint}</Text>
      </Text>
      {error && <Text color="yellow" wrap="truncate">server: {error}</Text>}
      {children.slice(0, Math.max(1, rows - 3 - (error ? 1 : 0)))}
    </Box>
  );
}
