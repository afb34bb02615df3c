import * as grpc from '@grpc/grpc-js';
import type { FleetClient } from '../grpc/client.js';
import type { BookingResponseMsg } from '../grpc/proto.js';
import type { ActionResult, OperatorDesk } from '../tui/sources/types.js';

const REFUSED_HINT: Record<string, string> = {
  PERMISSION_DENIED: 'this token is not an operator: pass an operator token with --token or GREENLANE_API_TOKEN',
  UNAUTHENTICATED: 'the server does not accept this token: check --token or GREENLANE_API_TOKEN',
};

/** A refused or failed call as the confirmation line says it: the server's status name, its words and what to do. */
export function refusal(err: unknown): ActionResult {
  const e = err as grpc.ServiceError;
  const code = typeof e.code === 'number' ? (grpc.status[e.code] as string | undefined) : undefined;
  const hint = code ? REFUSED_HINT[code] : undefined;
  return { ok: false, code, text: `${code ?? 'failed'}: ${e.details || e.message}${hint ? ` (${hint})` : ''}` };
}

function answered(verb: string, res: BookingResponseMsg): ActionResult {
  const status = (res.status ?? 'BOOKING_UNKNOWN').replace(/^BOOKING_/, '').toLowerCase();
  const ok = !['failed', 'unknown'].includes(status);
  const where = res.station_id ? ` at ${res.station_id}` : '';
  const why = res.message || res.reason;
  return { ok, text: `${verb} ${res.car_id ?? ''}: ${status}${where}${res.booking_id ? ` (${res.booking_id})` : ''}${why ? ` — ${why}` : ''}` };
}

/**
 * The console's drill-down queries and operator actions over the server's RPCs (ListBookings,
 * ListSessions, RequestBooking, CancelBooking, SetStationAvailability). The server decides who may act; its refusal is
 * returned as the result, never thrown.
 */
export function createOperatorDesk(address: string, openClient: () => FleetClient): OperatorDesk {
  let client: FleetClient | undefined;
  const c = () => (client ??= openClient());
  return {
    label: `server ${address}`,
    listBookings: () => c().listBookings('all'),
    listSessions: (stationId) => c().listSessions({ stationId, limit: 10 }),
    async cancelBooking(carId) {
      try {
        return answered('cancel', await c().cancelBooking({ car_id: carId }));
      } catch (err) {
        return refusal(err);
      }
    },
    async requestBooking(carId, stationId) {
      try {
        return answered('book', await c().requestBooking({ car_id: carId, station_id: stationId ?? '' }));
      } catch (err) {
        return refusal(err);
      }
    },
    async setStationOnline(stationId, online) {
      try {
        const r = await c().setStationAvailability(stationId, online);
        const moved = r.replanned.map((p) => `${p.car_id}→${p.status === 'confirmed' ? p.station_id : p.status}`).join(', ');
        const what = online ? `online, ${r.ports} ports${r.promoted ? `, ${r.promoted} queued cars got a port` : ''}` : `offline, ${r.replanned.length} bookings re-planned${moved ? `: ${moved}` : ''}`;
        return { ok: true, text: `${stationId} ${what}${r.changed ? '' : ' (no change)'}` };
      } catch (err) {
        return refusal(err);
      }
    },
    async close() {
      client?.close();
      client = undefined;
    },
  };
}
