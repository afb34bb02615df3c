import { Args } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { UsageError } from '../../errors.js';
import { engineFlags } from '../../cli/flags.js';
import { readStationsFile } from '../../config/stations-file.js';
import { stationsOutside } from '../../domain/stations.js';
import { createLogger } from '../../observability/logger.js';
import { loadStationsIntoRedis } from '../../app/stations-view.js';

export default class StationsLoad extends BaseCommand<typeof StationsLoad> {
  static override summary = 'Validate a stations JSON file and load it into the shared fleet state (Redis).';
  static override description =
    'Stations are upserted: existing ids get the new ports and power, holds and sessions are kept, and new capacity promotes queued cars at once. In embedded mode stations are loaded by `greenlane up` from GREENLANE_STATIONS_FILE.';
  static override examples = ['GREENLANE_REDIS_URL=redis://127.0.0.1:6379 <%= config.bin %> stations load deploy/stations/manhattan.json'];
  static override args = { file: Args.string({ description: 'Stations JSON: [{id, name, lat, lon, ports, powerKw}]', required: true }) };
  static override flags = { ...engineFlags };

  async run(): Promise<{ file: string; loaded: number; outsideSimArea: string[] }> {
    const { args } = await this.parse(StationsLoad);
    const file = args.file;
    const stations = await readStationsFile(file);
    const outside = stationsOutside(stations).map((s) => s.id);
    if (!this.cfg.config.redisUrl) {
      throw new UsageError('embedded mode keeps stations inside `greenlane up`; there is no shared state to load into', [
        `Start with: GREENLANE_STATIONS_FILE=${file} greenlane up`,
        'Or set GREENLANE_REDIS_URL to load into Redis for external mode.',
      ]);
    }
    await loadStationsIntoRedis(this.cfg, createLogger({ level: 'warn', name: 'stations' }), stations);
    this.say(`Loaded ${stations.length} stations (${stations.reduce((n, s) => n + s.ports, 0)} ports) from ${file}.`);
    if (outside.length) this.say(`Note: outside the simulator's area: ${outside.join(', ')}`);
    return { file, loaded: stations.length, outsideSimArea: outside };
  }
}
