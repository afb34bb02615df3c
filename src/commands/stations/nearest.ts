import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { UsageError } from '../../cli/errors.js';
import { engineFlags } from '../../cli/flags.js';
import { table } from '../../cli/output.js';
import { createLogger } from '../../observability/logger.js';
import { openStationsView, type NearestStationRow } from '../../services/stations-view.js';
import { DEFAULT_STATIONS_FILE } from '../../services/stack.js';

export default class StationsNearest extends BaseCommand<typeof StationsNearest> {
  static override summary = 'Stations nearest to a point or a car, nearest first, with distance, drive time and free ports.';
  static override description = 'Uses GEOSEARCH … ASC COUNT n (never ANY) in external mode. --available keeps only stations with a free port now.';
  static override examples = [
    '<%= config.bin %> stations nearest --lat 40.758 --lon -73.985',
    '<%= config.bin %> stations nearest --car CAR-001 --limit 3 --available --json',
  ];
  static override flags = {
    ...engineFlags,
    lat: Flags.string({ summary: 'Latitude (degrees).' }),
    lon: Flags.string({ summary: 'Longitude (degrees).' }),
    car: Flags.string({ summary: 'Use this car’s last known position (external mode).', exclusive: ['lat', 'lon'] }),
    limit: Flags.integer({ summary: 'How many stations.', default: 5, min: 1, max: 1000, env: 'GREENLANE_STATIONS_LIMIT' }),
    available: Flags.boolean({ summary: 'Only stations with a free port.', default: false }),
  };

  async run(): Promise<{ from: { lat: number; lon: number; car?: string }; live: boolean; stations: NearestStationRow[] }> {
    const f = this.flags;
    const file = this.cfg.config.stationsFile ?? DEFAULT_STATIONS_FILE();
    const view = await openStationsView(this.cfg, createLogger({ level: 'warn', name: 'stations' }), file);
    try {
      const from = await this.position(view.carPosition.bind(view));
      const stations = await view.nearest(from.lat, from.lon, { limit: f.limit, available: f.available });
      if (!view.live) this.say(`(from ${view.source}: free ports need external mode or a running server)`);
      this.say(table(['id', 'name', 'km', 'drive min', 'free/ports', 'queue', 'kW'], stations.map((s) => [s.id, s.name, s.distanceKm.toFixed(2), s.driveMin.toFixed(1), `${s.free}/${s.ports}`, s.queueLength, s.powerKw])));
      return { from: f.car ? { ...from, car: f.car } : from, live: view.live, stations };
    } finally {
      await view.close();
    }
  }

  private async position(carPosition: (id: string) => Promise<{ lat: number; lon: number } | null>): Promise<{ lat: number; lon: number }> {
    const f = this.flags;
    if (f.car) {
      const pos = await carPosition(f.car);
      if (!pos) throw new UsageError(`no known position for car ${f.car}`, ['Check the id with `greenlane tail`, or pass --lat and --lon.']);
      return pos;
    }
    const lat = Number(f.lat);
    const lon = Number(f.lon);
    if (f.lat === undefined || f.lon === undefined || !Number.isFinite(lat) || !Number.isFinite(lon) || Math.abs(lat) > 90 || Math.abs(lon) > 180) {
      throw new UsageError('pass --lat and --lon (degrees) or --car ID', ['Example: greenlane stations nearest --lat 40.758 --lon -73.985']);
    }
    return { lat, lon };
  }
}
