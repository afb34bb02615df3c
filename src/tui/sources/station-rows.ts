import type { FleetQueries, NearestResult } from '../../services/queries/fleet-queries.js';

/**
 * The station rows the live queries answer, as the TUI sees them. They are declared in
 * src/services/queries/station-rows.ts; the TUI takes them through the query service's signatures
 * (src/services/queries/fleet-queries.ts) so that it never imports the composition root.
 * Once the row types live outside src/app, import them from there instead.
 */
export type LiveStationRow = Awaited<ReturnType<FleetQueries['listStations']>>[number];

/** A live station row with the distance and drive time of a nearest-station answer. */
export type LiveNearestRow = NearestResult['stations'][number];
