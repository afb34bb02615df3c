import { useMemo, useState } from 'react';
import { useHub, takeFragmentToken } from './hub-client.js';
import { FleetMap } from './FleetMap.js';
import { BAND_COLOR, STATION_COLOR } from './model.js';
import { ActionResultLine, CriticalList, Detail, Kpis, Login, PriceCurve } from './panels.js';

const fragmentToken = takeFragmentToken();

export function App() {
  const { state, login, act, lastAction } = useHub(fragmentToken);
  const [selected, setSelected] = useState<{ kind: 'car' | 'station'; id: string }>();
  const model = state.phase === 'live' ? state.model : state.phase === 'lost' ? state.model : undefined;
  const layers = useMemo(() => (model ? { grid: model.grid, cars: model.cars.values(), stations: model.stations, selected } : undefined), [model, selected]);

  if (state.phase === 'login') return <Login error={state.error} onLogin={login} />;
  if (!model || !layers) return <p className="muted center">connecting…</p>;
  return (
    <div className="app">
      <header>
        <h1>GreenLane</h1>
        <Kpis k={model.kpis} />
        <span className="muted who">
          {model.operator} · {model.kpis.source}
          {state.phase === 'lost' && <b className="error"> · {state.error}</b>}
        </span>
      </header>
      <main>
        <FleetMap layers={{ ...layers, cars: model.cars.values() }} version={model.version} tiles={model.tiles} onSelect={setSelected} />
        <aside>
          <section>
            <h2>Detail</h2>
            <Detail model={model} selected={selected} act={act} />
            <ActionResultLine last={lastAction} />
          </section>
          <section>
            <h2>Critical battery</h2>
            <CriticalList cars={model.critical} onPick={(id) => setSelected({ kind: 'car', id })} />
          </section>
          <section>
            <h2>Grid price</h2>
            <PriceCurve price={model.price} forecast={model.forecast} />
          </section>
          <section className="legend">
            {(['green', 'yellow', 'red'] as const).map((b) => (
              <span key={b}>
                <span style={{ color: BAND_COLOR[b] }}>■</span> {b} {model.kpis.bands[b]}
              </span>
            ))}
            <br />
            {(Object.keys(STATION_COLOR) as (keyof typeof STATION_COLOR)[]).map((k) => (
              <span key={k}>
                <span style={{ color: STATION_COLOR[k] }}>●</span> {k}
              </span>
            ))}
          </section>
        </aside>
      </main>
    </div>
  );
}
