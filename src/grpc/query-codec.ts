import type { SessionRow } from '../ports/store.js';
import type { BookingList, BookingListRow } from '../services/queries/fleet-queries.js';
import type { NearestStationRow, StationRow } from '../services/queries/station-rows.js';
import type { BookingInfoMsg, ListBookingsReplyMsg, SessionInfoMsg, StationInfoMsg } from './proto.js';

/**
 * Rows ↔ messages of the query RPCs. The server encodes what createFleetQueries returns and the
 * client decodes it back, so `greenlane stations|bookings|sessions --json` prints the same shape in
 * both modes. proto3 has no null: 0 and '' stand for "none" on the wire.
 */

export function stationToMsg(r: StationRow | NearestStationRow): StationInfoMsg {
  const near = r as Partial<NearestStationRow>;
  return {
    station_id: r.id,
    name: r.name,
    latitude: r.lat,
    longitude: r.lon,
    distance_km: near.distanceKm ?? 0,
    drive_min: near.driveMin ?? 0,
    ports: r.ports,
    free_ports: r.free,
    holds: r.holds,
    charging: r.charging,
    queue_length: r.queueLength,
    power_kw: r.powerKw,
    price_per_kwh: r.pricePerKwh,
    offline: Boolean(r.offline),
  };
}

export function stationFromMsg(m: StationInfoMsg): StationRow {
  return {
    id: m.station_id,
    name: m.name,
    lat: m.latitude,
    lon: m.longitude,
    ports: m.ports,
    free: m.free_ports,
    holds: m.holds,
    charging: m.charging,
    queueLength: m.queue_length,
    powerKw: m.power_kw,
    pricePerKwh: m.price_per_kwh,
    ...(m.offline ? { offline: true } : {}),
  };
}

export function nearestFromMsg(m: StationInfoMsg): NearestStationRow {
  return { ...stationFromMsg(m), distanceKm: m.distance_km, driveMin: m.drive_min };
}

export function bookingToMsg(b: BookingListRow): BookingInfoMsg {
  return {
    booking_id: b.bookingId,
    car_id: b.carId,
    station_id: b.stationId ?? '',
    status: b.status,
    battery_level: b.battery,
    critical: b.critical,
    created_at: b.createdAt,
    expires_at: b.expiresAt ?? 0,
    charging_since: b.chargingSince ?? 0,
    waiting_since: b.waitingSince ?? 0,
    queue_position: b.queuePosition,
    candidate_station_ids: b.candidates,
  };
}

const orNull = (v: number | undefined) => (v ? v : null);

export function bookingFromMsg(m: BookingInfoMsg): BookingListRow {
  return {
    bookingId: m.booking_id,
    carId: m.car_id,
    status: m.status as BookingListRow['status'],
    stationId: m.station_id || null,
    battery: m.battery_level,
    critical: m.critical,
    createdAt: m.created_at,
    expiresAt: orNull(m.expires_at),
    chargingSince: orNull(m.charging_since),
    waitingSince: orNull(m.waiting_since),
    queuePosition: m.queue_position,
    candidates: m.candidate_station_ids ?? [],
  };
}

export function bookingListFromMsg(m: ListBookingsReplyMsg): BookingList {
  return { at: m.timestamp, bookings: (m.bookings ?? []).map(bookingFromMsg) };
}

export function sessionToMsg(s: SessionRow): SessionInfoMsg {
  return {
    session_id: s.sessionId,
    station_id: s.stationId,
    car_id: s.carId,
    start_time: s.time,
    end_time: s.endTime ?? 0,
    start_battery: s.startBattery ?? 0,
    end_battery: s.endBattery ?? 0,
    kwh: s.kwhUsage,
    price_rate: s.priceRate,
    cost: s.cost ?? 0,
  };
}

export function sessionFromMsg(m: SessionInfoMsg): SessionRow {
  return {
    sessionId: m.session_id,
    stationId: m.station_id,
    carId: m.car_id,
    time: m.start_time,
    endTime: orNull(m.end_time),
    startBattery: m.start_battery,
    endBattery: m.end_time ? m.end_battery : null,
    kwhUsage: m.kwh,
    priceRate: m.price_rate,
    cost: m.end_time ? m.cost : null,
  };
}
