import type { Decision, DecisionStatus } from '../domain/booking-request.js';
import type { BookingResponseMsg, BookingStatusName } from './proto.js';

/** BookingStatus names in proto/fleet.proto (a deferral is BOOKING_DEFERRED with the reason and expires_at = when). */
export const bookingStatusName: Record<DecisionStatus, BookingStatusName> = {
  confirmed: 'BOOKING_CONFIRMED',
  failed: 'BOOKING_FAILED',
  expired: 'BOOKING_EXPIRED',
  queued: 'BOOKING_QUEUED',
  cancelled: 'BOOKING_CANCELLED',
  charging: 'BOOKING_CHARGING',
  completed: 'BOOKING_COMPLETED',
  deferred: 'BOOKING_DEFERRED',
};

/** The coordinator's decision as the BookingResponse a car receives on its stream. */
export function toBookingResponse(d: Decision): BookingResponseMsg {
  return {
    booking_id: d.bookingId,
    car_id: d.carId,
    station_id: d.stationId,
    status: bookingStatusName[d.status],
    message: d.message,
    timestamp: d.timestamp,
    price_rate: d.priceRate,
    queue_position: d.queuePosition,
    expires_at: d.expiresAt,
    reason: d.reason,
    event_type: d.eventType,
  };
}
