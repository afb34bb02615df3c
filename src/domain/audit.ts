/**
 * An independent audit of port occupancy: replays the fleet-events log and counts the instants at
 * which some station had more holds + charging sessions than ports. It trusts nothing but the
 * events (no coordinator counters): each booking's port is tracked from booking_confirmed until
 * charging_started turns it into a session, and until booking_expired / booking_cancelled /
 * charging_completed frees it. Events are deduplicated on event_id (the bus is at-least-once) and
 * applied an instant (timestamp) at a time, so a release and the promotion it caused, stamped with
 * the same instant, never count as an overlap.
 */
/** An entry of the fleet-events log as read back (telemetry and booking events alike); the audit and src/sim/herd-report.ts read it. */
export interface LoggedEvent {
  event_id?: string;
  event_type: string;
  car_id: string;
  timestamp: number;
  booking_id?: string;
  station_id?: string;
  battery?: number;
  kwh?: number;
  cost?: number;
  [extra: string]: unknown;
}

export interface Violation {
  timestamp: number;
  stationId: string;
  holds: number;
  sessions: number;
  ports: number;
}

export interface AuditReport {
  doubleBookings: number;
  violations: Violation[];
  /** Highest holds + sessions seen per station. */
  peak: Record<string, number>;
  eventsReplayed: number;
  duplicatesIgnored: number;
  /** Occupancy events naming a station the audit was not told about. */
  unknownStation: number;
}

interface Occupancy {
  holds: Set<string>;
  sessions: Set<string>;
}

const acquire = new Set(['booking_confirmed', 'charging_started']);
const release = new Set(['booking_expired', 'booking_cancelled', 'charging_completed']);

export function auditEvents(events: Iterable<LoggedEvent>, stations: { id: string; ports: number }[]): AuditReport {
  const ports = new Map(stations.map((s) => [s.id, s.ports]));
  const occupancy = new Map(stations.map((s): [string, Occupancy] => [s.id, { holds: new Set(), sessions: new Set() }]));
  const stationOfBooking = new Map<string, string>();
  const report: AuditReport = { doubleBookings: 0, violations: [], peak: {}, eventsReplayed: 0, duplicatesIgnored: 0, unknownStation: 0 };
  const seen = new Set<string>();
  const relevant: LoggedEvent[] = [];
  for (const e of events) {
    if (!acquire.has(e.event_type) && !release.has(e.event_type)) continue;
    if (e.event_id !== undefined) {
      if (seen.has(e.event_id)) {
        report.duplicatesIgnored++;
        continue;
      }
      seen.add(e.event_id);
    }
    relevant.push(e);
  }
  relevant.sort((a, b) => a.timestamp - b.timestamp); // stable: log order within an instant

  let i = 0;
  while (i < relevant.length) {
    const instant = relevant[i].timestamp;
    const touched = new Set<string>();
    for (; i < relevant.length && relevant[i].timestamp === instant; i++) {
      const e = relevant[i];
      const key = e.booking_id ?? `car:${e.car_id}`;
      const stationId = e.station_id ?? stationOfBooking.get(key);
      const occ = stationId ? occupancy.get(stationId) : undefined;
      report.eventsReplayed++;
      if (!stationId || !occ) {
        report.unknownStation++;
        continue;
      }
      apply(e.event_type, key, occ);
      if (e.event_type === 'booking_confirmed') stationOfBooking.set(key, stationId);
      touched.add(stationId);
    }
    for (const stationId of touched) check(instant, stationId, occupancy.get(stationId)!, ports.get(stationId)!, report);
  }
  return report;
}

function apply(type: string, key: string, occ: Occupancy): void {
  if (type === 'booking_confirmed') {
    if (!occ.sessions.has(key)) occ.holds.add(key);
  } else if (type === 'charging_started') {
    occ.holds.delete(key);
    occ.sessions.add(key);
  } else {
    occ.holds.delete(key);
    occ.sessions.delete(key);
  }
}

function check(timestamp: number, stationId: string, occ: Occupancy, ports: number, report: AuditReport): void {
  const used = occ.holds.size + occ.sessions.size;
  report.peak[stationId] = Math.max(report.peak[stationId] ?? 0, used);
  if (used > ports) {
    report.doubleBookings++;
    report.violations.push({ timestamp, stationId, holds: occ.holds.size, sessions: occ.sessions.size, ports });
  }
}
