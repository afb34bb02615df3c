import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { pricingFlags, pricingFromFlags } from '../cli/pricing-flags.js';
import { listenFlags } from '../cli/flags.js';
import { warnIfExposed } from '../app/exposure.js';
import { untilSignal } from '../cli/shutdown.js';
import type { PricingParams } from '../domain/pricing.js';
import { createLogger } from '../observability/logger.js';
import { createRegistry } from '../observability/metrics.js';
import { createGrid } from '../services/grid.js';

export default class Grid extends BaseCommand<typeof Grid> {
  static override summary = 'Serve time-of-use electricity prices over HTTP (the original grid API).';
  static override description = [
    'GET /api/pricing returns the original JSON (timestamp, price_per_kwh, grid_load, energy_source, hour); ?at=<unix ms> prices any instant.',
    'GET /api/pricing/forecast?hours=24[&step=15][&from=<unix ms>] returns the curve at 15-minute resolution (hours 1–168).',
    'Also /health, /ready and /metrics. The curve is smooth, peaks at 18:00 ($0.40), bottoms at 02:00 ($0.10), with a 10 % solar discount 08:00–18:00.',
    'Runs until Ctrl-C.',
  ].join('\n');
  static override examples = ['<%= config.bin %> grid', '<%= config.bin %> grid --grid-port 9081 --time-zone America/New_York', 'curl -s localhost:8081/api/pricing'];
  static override flags = {
    'grid-port': Flags.integer({ summary: 'Port to listen on.', env: 'GREENLANE_GRID_PORT', min: 0, max: 65535 }),
    host: Flags.string({ summary: 'Address to bind (default: --bind, 127.0.0.1).', env: 'GREENLANE_GRID_HOST' }),
    bind: listenFlags.bind,
    ...pricingFlags,
  };

  async run(): Promise<{ url: string; timeZone: string; params: PricingParams }> {
    const { config } = this.cfg;
    const { params, tz } = pricingFromFlags(this.flags);
    const logger = createLogger({ level: this.flags['log-level'] ?? config.logLevel, name: 'grid' });
    const host = this.flags.host ?? config.bind;
    warnIfExposed(config, { grid: true, gridHost: host });
    const grid = createGrid({ port: config.gridPort, host, token: config.gridToken, forecastMaxPoints: config.forecastMaxPoints, params, tz, logger, registry: createRegistry() });
    await grid.start();
    this.say(`Grid prices on ${grid.url}/api/pricing  (forecast: /api/pricing/forecast?hours=24, metrics: /metrics, zone: ${tz})`);
    this.say('Press Ctrl-C to stop.');
    const { signal, dispose } = untilSignal();
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    dispose();
    await grid.stop();
    return { url: grid.url, timeZone: tz, params };
  }
}
