/** The coordinator's public API: src/app/stack.ts wires it; src/grpc/booking-codec.ts turns its decisions into BookingResponses. */
export { createCoordinator, newInstanceId } from './coordinator.js';
export type { Coordinator, CoordinatorDeps } from './types.js';
export type { NearestOptions, NearestRow } from './nearest.js';
export { BOOKING_EVENT_TYPES, decisionFromEvent } from './event-codec.js';
export type { ClockOption } from './clock.js';
export type { BookingRequest, Decision, DecisionStatus } from '../../domain/booking-request.js';
export { UnknownStationError, type AvailabilityResult, type Replanned } from './station-availability.js';
