import { BaseCommand } from '../../cli/base-command.js';
import { engineFlags } from '../../cli/flags.js';
import { table } from '../../cli/output.js';
import { createLogger } from '../../observability/logger.js';
import { openStationsView, type StationRow } from '../../services/stations-view.js';
import { DEFAULT_STATIONS_FILE } from '../../services/stack.js';

export default class StationsList extends BaseCommand<typeof StationsList> {
  static override summary = 'List charging stations: ports free/total, holds, sessions, queue, power and the current price.';
  static override description =
    'External mode (GREENLANE_REDIS_URL) reads the live reservations in Redis. Embedded mode shows the stations file (the live state lives inside `greenlane up`).';
  static override examples = ['<%= config.bin %> stations list', 'GREENLANE_REDIS_URL=redis://127.0.0.1:6379 <%= config.bin %> stations list --json'];
  static override flags = { ...engineFlags };

  async run(): Promise<{ live: boolean; source: string; stations: StationRow[] }> {
    const file = this.cfg.config.stationsFile ?? DEFAULT_STATIONS_FILE();
    const view = await openStationsView(this.cfg, createLogger({ level: 'warn', name: 'stations' }), file);
    try {
      const stations = await view.list();
      if (!view.live) this.say(`(from ${view.source}: live port state needs external mode or a running server)`);
      if (stations.length === 0) this.say('No stations loaded. Load some with `greenlane stations load deploy/stations/manhattan.json`.');
      else this.say(table(['id', 'name', 'free/ports', 'holds', 'charging', 'queue', 'kW', '$/kWh'], stations.map((s) => [s.id, s.name, `${s.free}/${s.ports}`, s.holds, s.charging, s.queueLength, s.powerKw, s.pricePerKwh.toFixed(2)])));
      return { live: view.live, source: view.source, stations };
    } finally {
      await view.close();
    }
  }
}
