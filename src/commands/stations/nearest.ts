import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { UsageError } from '../../errors.js';
import { clientFlags, engineFlags } from '../../cli/flags.js';
import { table } from '../../cli/output.js';
import { createLogger } from '../../observability/logger.js';
import type { NearestFrom, NearestResult } from '../../services/queries/fleet-queries.js';
import { openFleetQueries } from '../../app/operator-queries.js';

export default class StationsNearest extends BaseCommand<typeof StationsNearest> {
  static override summary = 'Stations nearest to a point or a car, nearest first, with distance, drive time and free ports.';
  static override description =
    'Nearest first by GEOSEARCH … ASC COUNT n (never ANY). --available keeps only stations with a free port now. Embedded mode asks the running server (NearestStations RPC); external mode reads Redis.';
  static override examples = [
    '<%= config.bin %> stations nearest --lat 40.758 --lon -73.985',
    '<%= config.bin %> stations nearest --car CAR-001 --limit 3 --available --json',
  ];
  static override flags = {
    ...engineFlags,
    ...clientFlags,
    'data-dir': Flags.string({ summary: 'Where the embedded dev token lives.', env: 'GREENLANE_DATA_DIR' }),
    lat: Flags.string({ summary: 'Latitude (degrees).' }),
    lon: Flags.string({ summary: 'Longitude (degrees).' }),
    car: Flags.string({ summary: 'Search from this car’s last known position.', exclusive: ['lat', 'lon'] }),
    limit: Flags.integer({ summary: 'How many stations.', default: 5, min: 1, max: 1000, env: 'GREENLANE_STATIONS_LIMIT' }),
    available: Flags.boolean({ summary: 'Only stations with a free port.', default: false }),
  };

  async run(): Promise<NearestResult & { source: string }> {
    const f = this.flags;
    const from = this.from();
    const queries = await openFleetQueries(this.cfg, { logger: createLogger({ level: this.flags['log-level'] ?? 'error', name: 'stations' }), token: f.token, need: ['redis'] });
    try {
      const res = await queries.nearest(from, { limit: f.limit, available: f.available });
      if (res.stations.length === 0) this.say(f.available ? 'No station has a free port right now.' : 'No stations loaded.');
      else this.say(table(['id', 'name', 'km', 'drive min', 'free/ports', 'queue', 'kW', '$/kWh'], res.stations.map((s) => [s.id, s.name, s.distanceKm.toFixed(2), s.driveMin.toFixed(1), `${s.free}/${s.ports}`, s.queueLength, s.powerKw, s.pricePerKwh.toFixed(2)])));
      return { source: queries.source, ...res };
    } finally {
      await queries.close();
    }
  }

  private from(): NearestFrom {
    const f = this.flags;
    if (f.car) return { carId: f.car };
    const lat = Number(f.lat);
    const lon = Number(f.lon);
    if (f.lat === undefined || f.lon === undefined || !Number.isFinite(lat) || !Number.isFinite(lon) || Math.abs(lat) > 90 || Math.abs(lon) > 180) {
      throw new UsageError('pass --lat and --lon (degrees) or --car ID', ['Example: greenlane stations nearest --lat 40.758 --lon -73.985']);
    }
    return { lat, lon };
  }
}
