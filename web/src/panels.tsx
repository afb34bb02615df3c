import { useState } from 'react';
import type { ActionResultMsg } from '../../src/web/protocol.js';
import type { Action } from './hub-client.js';
import { BAND_COLOR, bandOf, stationState, STATION_COLOR, type CarBooking, type CarTuple, type FleetModel, type WebKpis, type WebPricePoint, type WebStation } from './model.js';

export function Kpis({ k }: { k: WebKpis }) {
  const item = (id: string, label: string, value: string | number, tone?: string) => (
    <div className="kpi" key={id}>
      <span className="kpi-label">{label}</span>
      <span className="kpi-value" data-testid={`kpi-${id}`} style={tone ? { color: tone } : undefined}>
        {value}
      </span>
    </div>
  );
  return (
    <div className="kpis">
      {item('cars', 'cars', k.cars)}
      {item('critical', 'critical', k.critical, k.critical ? BAND_COLOR.red : undefined)}
      {item('queued', 'queued', k.queued)}
      {item('charging', 'charging', k.charging)}
      {item('price', 'avg price paid', k.avgPricePaid === null ? '—' : `$${k.avgPricePaid.toFixed(3)}/kWh`)}
      {item('rate', 'events/s', k.rate)}
    </div>
  );
}

/** The grid price curve with a "now" marker. */
export function PriceCurve({ price, forecast }: { price: WebPricePoint | null; forecast: WebPricePoint[] }) {
  if (!forecast.length) return <p className="muted">no price curve yet</p>;
  const W = 300;
  const H = 90;
  const t0 = forecast[0]!.time;
  const t1 = forecast[forecast.length - 1]!.time || t0 + 1;
  const max = Math.max(...forecast.map((p) => p.price)) * 1.1 || 1;
  const x = (t: number) => ((t - t0) / Math.max(1, t1 - t0)) * W;
  const y = (v: number) => H - (v / max) * H;
  const now = price?.time ?? Date.now();
  return (
    <svg className="price" viewBox={`0 0 ${W} ${H + 14}`} data-testid="price-curve">
      <polyline fill="none" stroke="#38bdf8" strokeWidth="2" points={forecast.map((p) => `${x(p.time).toFixed(1)},${y(p.price).toFixed(1)}`).join(' ')} />
      {now >= t0 && now <= t1 && <line x1={x(now)} x2={x(now)} y1={0} y2={H} stroke="#f8fafc" strokeDasharray="3 3" />}
      <text x={4} y={H + 12} fill="#94a3b8" fontSize="10">
        now {price ? `$${price.price.toFixed(3)}/kWh` : '—'} · max ${(max / 1.1).toFixed(3)}
      </text>
    </svg>
  );
}

export function CriticalList({ cars, onPick }: { cars: CarTuple[]; onPick(id: string): void }) {
  if (!cars.length) return <p className="muted">no car below the critical threshold</p>;
  return (
    <ul className="critical" data-testid="critical-list">
      {cars.map((c) => (
        <li key={c[0]} onClick={() => onPick(c[0])}>
          <span style={{ color: BAND_COLOR.red }}>●</span> {c[0]} <b>{c[3].toFixed(1)}%</b>
        </li>
      ))}
    </ul>
  );
}

type Act = (req: Action) => Promise<ActionResultMsg>;

/**
 * An operator action behind a confirmation line. What the server answered is shown by the page
 * (ActionResultLine), not here: the row this button sits in may be gone by then (a cancelled booking).
 */
function ActionButton(props: { label: string; question: string; confirm: string; testid: string; confirmTestid: string; run(): Promise<ActionResultMsg> }) {
  const [phase, setPhase] = useState<'idle' | 'confirm' | 'busy'>('idle');
  if (phase === 'confirm')
    return (
      <span className="confirm">
        {props.question}{' '}
        <button
          data-testid={props.confirmTestid}
          onClick={async () => {
            setPhase('busy');
            await props.run();
            setPhase('idle');
          }}
        >
          {props.confirm}
        </button>{' '}
        <button onClick={() => setPhase('idle')}>Keep</button>
      </span>
    );
  return (
    <button data-testid={props.testid} disabled={phase === 'busy'} onClick={() => setPhase('confirm')}>
      {props.label}
    </button>
  );
}

function CancelButton({ booking, act }: { booking: CarBooking; act: Act }) {
  return (
    <ActionButton
      label="Cancel booking"
      question={`Cancel ${booking.carId}'s booking?`}
      confirm="Yes, cancel"
      testid={`cancel-${booking.carId}`}
      confirmTestid="confirm-cancel"
      run={() => act({ type: 'cancel', ...(booking.bookingId ? { bookingId: booking.bookingId } : { carId: booking.carId }) })}
    />
  );
}

function StationDetail({ s, bookings, act }: { s: WebStation; bookings: CarBooking[]; act: Act }) {
  const here = bookings.filter((b) => b.stationId === s.id);
  return (
    <div data-testid="station-detail">
      <h3>
        <span style={{ color: STATION_COLOR[stationState(s)] }}>●</span> {s.name}
      </h3>
      <p className="muted">{s.id}</p>
      <p>
        ports {s.taken}/{s.ports} taken · queue {s.queue}
        {s.priceRate !== undefined && ` · $${s.priceRate.toFixed(3)}/kWh`}
      </p>
      <p>
        {s.offline && <b className="error">OFFLINE </b>}
        <ActionButton
          label={s.offline ? 'Bring online' : 'Take offline'}
          question={s.offline ? `Bring ${s.name} back online?` : `Take ${s.name} offline? Its holds, charging and queue are re-planned elsewhere.`}
          confirm={s.offline ? 'Yes, online' : 'Yes, offline'}
          testid={`station-${s.offline ? 'online' : 'offline'}`}
          confirmTestid="confirm-station"
          run={() => act({ type: 'station', stationId: s.id, online: Boolean(s.offline) })}
        />
      </p>
      {here.length === 0 && <p className="muted">no booking seen here yet</p>}
      <ul className="bookings">
        {here.map((b) => (
          <li key={b.carId}>
            {b.carId} <i>{b.state}</i> <CancelButton booking={b} act={act} />
          </li>
        ))}
      </ul>
    </div>
  );
}

function CarDetail({ c, booking, act }: { c: CarTuple; booking?: CarBooking; act: Act }) {
  return (
    <div data-testid="car-detail">
      <h3>
        <span style={{ color: BAND_COLOR[bandOf(c[3])] }}>●</span> {c[0]}
      </h3>
      <p>
        battery <b>{c[3].toFixed(1)}%</b> · {c[4].toFixed(0)} km/h · {c[1].toFixed(4)}, {c[2].toFixed(4)}
      </p>
      {booking ? (
        <p>
          {booking.state} at {booking.stationId} <CancelButton booking={booking} act={act} />
        </p>
      ) : (
        <p>
          <span className="muted">no active booking seen</span>{' '}
          <ActionButton label="Request booking" question={`Book a port for ${c[0]} now?`} confirm="Yes, book" testid={`request-${c[0]}`} confirmTestid="confirm-request" run={() => act({ type: 'request', carId: c[0] })} />
        </p>
      )}
    </div>
  );
}

/** The server's answer to the last operator action, ✓ or ✗ with its words. */
export function ActionResultLine({ last }: { last?: ActionResultMsg }) {
  if (!last) return null;
  return (
    <p className={last.ok ? 'ok' : 'error'} data-testid="action-result">
      {last.ok ? '✓' : '✗'} {last.message}
    </p>
  );
}

export function Detail({ model, selected, act }: { model: FleetModel; selected?: { kind: 'car' | 'station'; id: string }; act: Act }) {
  if (!selected) return <p className="muted">click a station or a car</p>;
  if (selected.kind === 'station') {
    const s = model.stations.find((x) => x.id === selected.id);
    return s ? <StationDetail s={s} bookings={model.bookings} act={act} /> : null;
  }
  const c = model.cars.get(selected.id);
  return c ? <CarDetail c={c} booking={model.bookings.find((b) => b.carId === c[0])} act={act} /> : <p className="muted">{selected.id} is gone</p>;
}

export function Login({ error, onLogin }: { error?: string; onLogin(token: string): void }) {
  const [token, setToken] = useState('');
  return (
    <form
      className="login"
      onSubmit={(e) => {
        e.preventDefault();
        if (token.trim()) onLogin(token.trim());
      }}
    >
      <h2>GreenLane fleet map</h2>
      <label>
        Operator token
        <input type="password" name="token" autoComplete="off" value={token} onChange={(e) => setToken(e.target.value)} />
      </label>
      <button type="submit">Open</button>
      {error && (
        <p className="error" data-testid="auth-error">
          {error}
        </p>
      )}
    </form>
  );
}
