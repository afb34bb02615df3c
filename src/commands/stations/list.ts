import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { clientFlags, engineFlags } from '../../cli/flags.js';
import { table } from '../../cli/output.js';
import { createLogger } from '../../observability/logger.js';
import { openFleetQueries } from '../../app/operator-queries.js';
import type { StationRow } from '../../services/queries/station-rows.js';

export default class StationsList extends BaseCommand<typeof StationsList> {
  static override summary = 'List charging stations: ports free/total, holds, sessions, queue, power and the current price.';
  static override description =
    'Embedded mode asks the running `greenlane up` server (ListStations RPC; --server, --token). External mode (GREENLANE_REDIS_URL) reads the live reservations in Redis directly.';
  static override examples = ['<%= config.bin %> stations list', '<%= config.bin %> stations list --json | jq ".stations[] | select(.free == 0) | .id"', 'GREENLANE_REDIS_URL=redis://127.0.0.1:6379 <%= config.bin %> stations list'];
  static override flags = {
    ...engineFlags,
    ...clientFlags,
    'data-dir': Flags.string({ summary: 'Where the embedded dev token lives.', env: 'GREENLANE_DATA_DIR' }),
  };

  async run(): Promise<{ source: string; stations: StationRow[] }> {
    const queries = await openFleetQueries(this.cfg, { logger: createLogger({ level: this.flags['log-level'] ?? 'error', name: 'stations' }), token: this.flags.token, need: ['redis'] });
    try {
      const stations = await queries.listStations();
      if (stations.length === 0) this.say('No stations loaded. Load some with `greenlane stations load deploy/stations/manhattan.json` (external mode) or set GREENLANE_STATIONS_FILE for `greenlane up`.');
      else this.say(table(['id', 'name', 'free/ports', 'holds', 'charging', 'queue', 'kW', '$/kWh'], stations.map((s) => [s.id, s.name, s.offline ? 'offline' : `${s.free}/${s.ports}`, s.holds, s.charging, s.queueLength, s.powerKw, s.pricePerKwh.toFixed(2)])));
      return { source: queries.source, stations };
    } finally {
      await queries.close();
    }
  }
}
