import type { FleetState } from '../../ports/fleet-state.js';
import type { PriceSource } from '../../ports/price-source.js';
import type { Reservations } from '../../ports/reservations.js';
import type { Store } from '../../ports/store.js';
import { UnknownStationError, type Coordinator } from '../coordination/index.js';
import { createFleetQueries, QueryError, type QueryHandlers } from './fleet-queries.js';

export interface StackQueryDeps {
  coordinator: Pick<Coordinator, 'requestBooking' | 'cancelBooking' | 'now'> & Partial<Pick<Coordinator, 'setStationOnline'>>;
  reservations: Reservations;
  fleet: FleetState;
  /** Absent when this process does not host the worker (external mode: the worker owns PostgreSQL). */
  store?: Pick<Store, 'listSessions'>;
  prices: PriceSource;
  /** Defaults to the coordinator's clock, so countdowns and prices follow a sped-up simulation's time. */
  now?: () => number;
}

/** How long a station listing may reuse the grid price (prices change every 15 minutes at most). */
const PRICE_TTL_MS = 10_000;

/** What `startStack` attaches to ingestion: bookings through the coordinator, reads over its engines. */
export function stackQueryHandlers(deps: StackQueryDeps): QueryHandlers {
  const clock = deps.now ?? (deps.coordinator.now ? () => deps.coordinator.now!() : Date.now);
  let cached: { at: number; price: number } | undefined;
  const price = async () => {
    const now = clock();
    if (!cached || Math.abs(now - cached.at) > PRICE_TTL_MS) cached = { at: now, price: (await deps.prices.priceAt(now)).price_per_kwh };
    return cached.price;
  };
  return {
    queries: createFleetQueries({
      fleet: deps.fleet,
      reservations: deps.reservations,
      store: deps.store,
      price,
      now: clock,
      source: 'server',
      missing: { store: 'this ingestion process has no store (external mode: the worker owns PostgreSQL); run `greenlane sessions` with GREENLANE_DATABASE_URL to read it directly' },
    }),
    bookings: {
      // BookingResponse.price_rate is "$/kWh at booking time" (proto/fleet.proto); the coordinator's direct answer leaves it 0.
      request: async (req) => {
        const decision = await deps.coordinator.requestBooking(req);
        if (decision.priceRate || decision.status === 'failed') return decision;
        return { ...decision, priceRate: await price().catch(() => 0) };
      },
      cancel: (req) => deps.coordinator.cancelBooking(req),
      bookingCar: async (bookingId) => (await deps.reservations.booking(bookingId))?.carId ?? null,
      setStationOnline: deps.coordinator.setStationOnline
        ? (stationId, online) =>
            deps.coordinator.setStationOnline!(stationId, online).catch((err: unknown) => {
              throw err instanceof UnknownStationError ? new QueryError('not_found', err.message) : err;
            })
        : undefined,
    },
  };
}
