import { table } from '../../cli/output.js';
import type { VirtualKpis } from './kpis.js';
import { targetsFor, targetsLine } from './targets.js';

/** The KPIs of src/sim/virtual/kpis.ts as tables: one run, or greenlane and greedy side by side with their ratio. */
type Row = [label: string, value: (k: VirtualKpis) => number | string | null];

const pct = (v: number | null): string => (v === null ? 'n/a' : `${(v * 100).toFixed(1)} %`);
const usd = (v: number | null): string => (v === null ? 'n/a' : `$${v.toFixed(3)}/kWh`);
const at = (iso: string | null): string => (iso ? iso.slice(11, 16) : 'n/a');

const ROWS: { label: string; get: Row[1]; show: (v: number | string | null) => string }[] = [
  { label: 'cars charged', get: (k) => k.charged, show: String },
  { label: 'sessions', get: (k) => k.sessions, show: String },
  { label: 'stranded (0 %)', get: (k) => k.stranded, show: String },
  { label: 'double bookings (audit)', get: (k) => k.doubleBookings, show: String },
  { label: 'wait p50 (min)', get: (k) => k.waitP50Min, show: String },
  { label: 'wait p95 (min)', get: (k) => k.waitP95Min, show: String },
  { label: 'wait max (min)', get: (k) => k.waitMaxMin, show: String },
  { label: 'wait p50, cars below 30 % (min)', get: (k) => k.needWaitP50Min, show: String },
  { label: 'wait p95, cars below 30 % (min)', get: (k) => k.needWaitP95Min, show: String },
  { label: 'wait max, cars below 30 % (min)', get: (k) => k.needWaitMaxMin, show: String },
  { label: 'top-ups (asked above 30 %)', get: (k) => k.topUps, show: String },
  { label: 'port utilisation', get: (k) => k.utilisation, show: (v) => pct(v as number) },
  { label: 'utilisation while cars queue', get: (k) => k.utilisationWhileQueued, show: (v) => pct(v as number | null) },
  { label: 'energy delivered (kWh)', get: (k) => k.energyKwh, show: String },
  { label: 'energy owed at end (kWh)', get: (k) => k.energyOwedKwh, show: String },
  { label: 'cars below 30 % at end', get: (k) => k.carsLowAtEnd, show: String },
  { label: 'km driven (service)', get: (k) => k.kmDriven, show: String },
  { label: 'avg price paid', get: (k) => k.avgPricePaid, show: (v) => usd(v as number | null) },
  { label: 'grid time-average price', get: (k) => k.gridAvgPrice, show: (v) => usd(v as number) },
  { label: 'peak charging power (kW)', get: (k) => k.peakKw, show: String },
  { label: 'peak at (UTC)', get: (k) => k.peakAt, show: (v) => at(v as string) },
  { label: 'peak 17–19 h UTC (kW)', get: (k) => k.eveningPeakKw, show: (v) => (v === null ? 'n/a' : String(v)) },
  { label: 'decisions', get: (k) => k.decisions, show: String },
  { label: 'deferred', get: (k) => k.deferred, show: String },
  { label: 'simulated hours', get: (k) => k.simulatedHours, show: String },
];

function stationRows(k: VirtualKpis): string[][] {
  return Object.entries(k.stationUtilisation).map(([id, u]) => [`  ${id}`, pct(u)]);
}

export function kpiTable(k: VirtualKpis): string {
  const head = `${k.scenario} · ${k.policy} · seed ${k.seed} · ${k.cars} cars · ${k.ports} ports (${k.endedBy})`;
  const rows = ROWS.map((r) => [r.label, r.show(r.get(k))]);
  return `${head}\n${table(['KPI', k.policy], [...rows, ['per-station utilisation', ''], ...stationRows(k)])}`;
}

/** greenlane ÷ greedy; blank when either side is not a number or greedy is 0. */
export function ratio(a: number | string | null, b: number | string | null): number | null {
  return typeof a === 'number' && typeof b === 'number' && b !== 0 ? Math.round((a / b) * 1000) / 1000 : null;
}

export function compareTable(g: VirtualKpis, n: VirtualKpis): string {
  const head = `${g.scenario} · seed ${g.seed} · ${g.cars} cars · ${g.ports} ports — greenlane vs greedy (ratio = greenlane ÷ greedy)`;
  const rows = ROWS.map((r) => {
    const q = ratio(r.get(g), r.get(n));
    return [r.label, r.show(r.get(g)), r.show(r.get(n)), q === null ? '' : q.toFixed(3)];
  });
  const stations = Object.keys(g.stationUtilisation).map((id) => [`  ${id}`, pct(g.stationUtilisation[id]), pct(n.stationUtilisation[id] ?? 0), '']);
  return `${head}\n${table(['KPI', 'greenlane', 'greedy', 'ratio'], [...rows, ['per-station utilisation', '', '', ''], ...stations])}\n${targetsLine(targetsFor(g, n))}`;
}
