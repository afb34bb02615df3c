import { DEFAULT_PACK, drainBattery, type PackModel } from './battery.js';

/** The original simulator's bounding box. */
export const BOUNDS = { minLat: 40.7, maxLat: 40.85, minLon: -74.02, maxLon: -73.93 } as const;

const M_PER_DEG_LAT = 111_320;
const M_PER_DEG_LON = M_PER_DEG_LAT * Math.cos((((BOUNDS.minLat + BOUNDS.maxLat) / 2) * Math.PI) / 180);

export type RoadKind = 'highway' | 'avenue' | 'crosstown' | 'street';

/** Speed limits, km/h, by road kind. */
export const SPEED_LIMITS: Record<RoadKind, number> = { highway: 70, avenue: 40, crosstown: 35, street: 25 };

/**
 * An axis-aligned Manhattan: avenues run north–south (constant longitude), streets east–west
 * (constant latitude). The outer avenues stand in for the West Side Highway and the FDR Drive;
 * every fifth street is a wide crosstown street.
 */
export interface StreetGrid {
  avenues: number[]; // longitudes, west → east
  streets: number[]; // latitudes, south → north
}

export function buildGrid(avenueSpacingDeg = 0.005, streetSpacingDeg = 0.0025, marginDeg = 0.001): StreetGrid {
  const lines = (from: number, to: number, step: number) => {
    const out: number[] = [];
    for (let i = 0; ; i++) {
      const v = Math.round((from + marginDeg + i * step) * 1e6) / 1e6;
      if (v > to - marginDeg) break;
      out.push(v);
    }
    return out;
  };
  return { avenues: lines(BOUNDS.minLon, BOUNDS.maxLon, avenueSpacingDeg), streets: lines(BOUNDS.minLat, BOUNDS.maxLat, streetSpacingDeg) };
}

export const GRID: StreetGrid = buildGrid();

export function avenueKind(grid: StreetGrid, a: number): RoadKind {
  return a === 0 || a === grid.avenues.length - 1 ? 'highway' : 'avenue';
}

export function streetKind(s: number): RoadKind {
  return s % 5 === 0 ? 'crosstown' : 'street';
}

/** Mulberry32: a tiny, fast, seedable PRNG (uniform in [0, 1)). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mixes a fleet seed and a car index so each car's trajectory is independent of the fleet size. */
export function carSeed(seed: number, index: number): number {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Traffic slows cars in the morning (07–10) and evening (16–19) rush; 1 = free flow.
 * Local hour of the simulated time, so `--speed` shows rush hours come and go.
 */
export function rushFactor(timestampMs: number): number {
  // Every car of a fleet step asks for the same instant: the last answer is kept (a pure function of it).
  if (timestampMs === rushMemo.ms) return rushMemo.factor;
  const hour = ((timestampMs / 3_600_000 - 5) % 24 + 24) % 24; // UTC−5, New York standard time
  const factor = 1 - 0.45 * Math.max(rushBump(hour, 8.5), rushBump(hour, 17.5));
  rushMemo.ms = timestampMs;
  rushMemo.factor = factor;
  return factor;
}

const rushMemo = { ms: NaN, factor: 1 };

function rushBump(hour: number, center: number): number {
  return Math.exp(-((hour - center) ** 2) / 2);
}

export interface CarSnapshot {
  carId: string;
  lat: number;
  lon: number;
  battery: number;
  velocity: number; // km/h
  odometerKm: number;
  /** 'driving' | 'waiting' (red light) | 'parked' | 'stranded' (empty battery) | 'arrived' */
  mode: CarMode;
}

export type CarMode = 'driving' | 'waiting' | 'parked' | 'stranded' | 'arrived';

export interface SimCarOptions {
  carId: string;
  seed: number;
  /** Initial state of charge, percent. */
  battery: number;
  pack?: PackModel;
  grid?: StreetGrid;
}

interface Node {
  a: number; // avenue index
  s: number; // street index
}

/**
 * One car driving the grid: it moves along an edge between two intersections, at each
 * intersection goes straight or turns (never back unless it must), sometimes waits at a red
 * light, and drives at the road's limit scaled by traffic and a per-edge factor. Deterministic
 * for a seed and a sequence of step() calls.
 */
export class SimCar {
  readonly carId: string;
  readonly pack: PackModel;
  battery: number;
  odometerKm = 0;
  velocity = 0;
  mode: CarMode = 'driving';
  private readonly rng: () => number;
  private readonly grid: StreetGrid;
  private from: Node;
  private to: Node;
  private progressM = 0;
  private edgeM = 0;
  private edgeFactor = 1;
  private waitSec = 0;
  private target: Node | null = null;
  private onArrive: ((arrived: boolean) => void) | null = null;
  /** Where the car stands while parked off the grid (a station's bay); cleared when it drives again. */
  private spot: { lat: number; lon: number } | null = null;

  constructor(opts: SimCarOptions) {
    this.carId = opts.carId;
    this.rng = mulberry32(opts.seed);
    this.grid = opts.grid ?? GRID;
    this.pack = opts.pack ?? DEFAULT_PACK;
    this.battery = opts.battery;
    this.from = { a: this.randInt(this.grid.avenues.length), s: this.randInt(this.grid.streets.length) };
    this.to = this.pickNext(null);
    this.beginEdge();
    this.progressM = this.rng() * this.edgeM;
  }

  get position(): { lat: number; lon: number } {
    if (this.spot) return { ...this.spot };
    const f = this.edgeM > 0 ? this.progressM / this.edgeM : 0;
    const { avenues, streets } = this.grid;
    // Along an avenue the longitude is exactly the avenue's (and vice versa): no interpolation drift.
    const lon = this.from.a === this.to.a ? avenues[this.from.a] : avenues[this.from.a] + (avenues[this.to.a] - avenues[this.from.a]) * f;
    const lat = this.from.s === this.to.s ? streets[this.from.s] : streets[this.from.s] + (streets[this.to.s] - streets[this.from.s]) * f;
    return { lat, lon };
  }

  snapshot(): CarSnapshot {
    return { carId: this.carId, ...this.position, battery: this.battery, velocity: this.velocity, odometerKm: this.odometerKm, mode: this.mode };
  }

  /** Advances the car by `dtSec` of simulated time at simulated instant `atMs` (for traffic). */
  step(dtSec: number, atMs: number): void {
    let remaining = dtSec;
    let driven = 0;
    while (remaining > 1e-9) {
      if (this.mode === 'parked' || this.mode === 'stranded' || this.mode === 'arrived') {
        this.velocity = 0;
        break;
      }
      if (this.waitSec > 0) {
        const w = Math.min(this.waitSec, remaining);
        this.waitSec -= w;
        remaining -= w;
        this.velocity = 0;
        this.mode = this.waitSec > 0 ? 'waiting' : 'driving';
        continue;
      }
      this.mode = 'driving';
      const kmh = this.cruiseSpeed(atMs);
      const mps = kmh / 3.6;
      const toEnd = this.edgeM - this.progressM;
      const reach = mps * remaining;
      this.velocity = kmh;
      if (reach < toEnd) {
        this.progressM += reach;
        driven += reach;
        remaining = 0;
      } else {
        driven += toEnd;
        remaining -= toEnd / mps;
        this.arriveAtNode();
      }
    }
    this.odometerKm += driven / 1000;
    this.battery = drainBattery(this.pack, this.battery, driven / 1000, dtSec / 3600);
    if (this.battery <= 0 && this.mode !== 'parked') {
      this.mode = 'stranded';
      this.velocity = 0;
    }
  }

  /**
   * Drives to the intersection nearest (lat, lon) and stops there ('arrived'). Resolves true on
   * arrival, false when superseded by another driveTo/park/resume.
   */
  driveTo(lat: number, lon: number): Promise<boolean> {
    this.settle(false);
    this.spot = null;
    this.target = { a: nearestIndex(this.grid.avenues, lon), s: nearestIndex(this.grid.streets, lat) };
    if (this.mode === 'arrived' || this.mode === 'parked') this.mode = 'driving';
    return new Promise((resolve) => (this.onArrive = resolve));
  }

  /** Stops where it is (e.g. plugged in at a station) until resume(). */
  park(): void {
    this.settle(false);
    this.target = null;
    if (this.mode !== 'stranded') this.mode = 'parked';
    this.velocity = 0;
  }

  /**
   * Parks at exact coordinates off the grid, e.g. a station's bay a few hundred metres from the
   * nearest intersection; the car rejoins the grid where it left it on driveTo()/resume().
   */
  parkAt(lat: number, lon: number): void {
    this.park();
    this.spot = { lat, lon };
  }

  /** Roams again after park() or arrival (a stranded car needs setBattery first). */
  resume(): void {
    this.settle(false);
    this.spot = null;
    this.target = null;
    if (this.battery > 0) this.mode = 'driving';
  }

  /** Sets the state of charge (charging is applied by whoever controls the car). */
  setBattery(pct: number): void {
    this.battery = Math.max(0, Math.min(100, pct));
    if (this.mode === 'stranded' && this.battery > 0) this.mode = 'parked';
  }

  private settle(arrived: boolean): void {
    const cb = this.onArrive;
    this.onArrive = null;
    cb?.(arrived);
  }

  private cruiseSpeed(atMs: number): number {
    const kind = this.from.a === this.to.a ? avenueKind(this.grid, this.from.a) : streetKind(this.from.s);
    return SPEED_LIMITS[kind] * rushFactor(atMs) * this.edgeFactor;
  }

  private arriveAtNode(): void {
    const prev = this.from;
    this.from = this.to;
    if (this.target && this.target.a === this.from.a && this.target.s === this.from.s) {
      this.target = null;
      this.mode = 'arrived';
      this.velocity = 0;
      this.to = this.from;
      this.edgeM = 0;
      this.progressM = 0;
      this.settle(true);
      return;
    }
    this.to = this.pickNext(prev);
    this.beginEdge();
    // Roughly a third of intersections have a red light: wait 5–30 s.
    if (this.rng() < 0.3) this.waitSec = 5 + this.rng() * 25;
  }

  private beginEdge(): void {
    const { avenues, streets } = this.grid;
    const dLat = Math.abs(streets[this.to.s] - streets[this.from.s]);
    const dLon = Math.abs(avenues[this.to.a] - avenues[this.from.a]);
    this.edgeM = dLat * M_PER_DEG_LAT + dLon * M_PER_DEG_LON;
    this.progressM = 0;
    // Per-block traffic: double parking, a bus, a green wave.
    this.edgeFactor = 0.55 + this.rng() * 0.5;
  }

  /**
   * The next intersection: a neighbour on the grid, not back where the car came from unless it must;
   * towards the target when driving to one, else straight ahead half the time, or any. Written without
   * arrays per call (every car picks one at every intersection); draws the same random numbers as ever.
   */
  private pickNext(prev: Node | null): Node {
    const { a, s } = this.from;
    // Neighbours in a fixed order (east, west, north, south), the ones on the grid, forward ones if any.
    let n = 0;
    let forward = 0;
    for (let i = 0; i < 4; i++) {
      const na = a + NEIGHBOUR_DA[i];
      const ns = s + NEIGHBOUR_DS[i];
      if (na < 0 || ns < 0 || na >= this.grid.avenues.length || ns >= this.grid.streets.length) continue;
      OPT_A[n] = na;
      OPT_S[n] = ns;
      n++;
      if (!prev || na !== prev.a || ns !== prev.s) forward++;
    }
    if (prev && forward > 0) {
      let k = 0;
      for (let i = 0; i < n; i++) {
        if (OPT_A[i] === prev.a && OPT_S[i] === prev.s) continue;
        OPT_A[k] = OPT_A[i];
        OPT_S[k] = OPT_S[i];
        k++;
      }
      n = k;
    }
    if (this.target) return this.towards(this.target, n);
    if (prev) {
      // Going straight is the most likely move (about 2/3); turns share the rest.
      const sa = 2 * a - prev.a;
      const ss = 2 * s - prev.s;
      for (let i = 0; i < n; i++) if (OPT_A[i] === sa && OPT_S[i] === ss) {
        if (this.rng() < 0.5) return { a: sa, s: ss };
        break;
      }
    }
    const i = this.randInt(n);
    return { a: OPT_A[i], s: OPT_S[i] };
  }

  /** One of the first `n` options (OPT_A/OPT_S) nearest the target (grid distance), at random among ties. */
  private towards(t: Node, n: number): Node {
    let best = Infinity;
    for (let i = 0; i < n; i++) best = Math.min(best, Math.abs(OPT_A[i] - t.a) + Math.abs(OPT_S[i] - t.s));
    let ties = 0;
    for (let i = 0; i < n; i++) if (Math.abs(OPT_A[i] - t.a) + Math.abs(OPT_S[i] - t.s) === best) ties++;
    let pick = this.randInt(ties);
    for (let i = 0; i < n; i++) {
      if (Math.abs(OPT_A[i] - t.a) + Math.abs(OPT_S[i] - t.s) !== best) continue;
      if (pick-- === 0) return { a: OPT_A[i], s: OPT_S[i] };
    }
    throw new Error('unreachable: no option towards the target');
  }

  private randInt(n: number): number {
    return Math.floor(this.rng() * n);
  }
}

/** pickNext's neighbour offsets and its scratch space (a car picks synchronously, so one shared scratch is safe). */
const NEIGHBOUR_DA = [1, -1, 0, 0];
const NEIGHBOUR_DS = [0, 0, 1, -1];
const OPT_A = new Int32Array(4);
const OPT_S = new Int32Array(4);

function nearestIndex(lines: number[], v: number): number {
  let best = 0;
  for (let i = 1; i < lines.length; i++) if (Math.abs(lines[i] - v) < Math.abs(lines[best] - v)) best = i;
  return best;
}

/** Car ids in the original format: CAR-001 … (more digits when the fleet needs them). */
export function carId(index: number, total: number, prefix = 'CAR-'): string {
  return prefix + String(index + 1).padStart(Math.max(3, String(total).length), '0');
}

/** True when (lat, lon) lies on an avenue or a street of the grid. */
export function onGrid(lat: number, lon: number, grid: StreetGrid = GRID, eps = 1e-9): boolean {
  return grid.avenues.some((x) => Math.abs(x - lon) < eps) || grid.streets.some((y) => Math.abs(y - lat) < eps);
}
