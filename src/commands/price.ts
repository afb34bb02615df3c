import { Flags } from '@oclif/core';
import { priceReport, type PriceReport } from '../app/price-report.js';
import { BaseCommand } from '../cli/base-command.js';
import { renderReport } from '../cli/price-chart.js';
import { pricingFlags, pricingFromFlags } from '../cli/pricing-flags.js';
import { parseTime } from '../cli/time.js';

export default class Price extends BaseCommand<typeof Price> {
  static override summary = 'Show the electricity price now (or at a time) and a chart of the coming hours.';
  static override description =
    'Asks the grid service (--grid-url) and falls back to the local curve, saying so, when it is unreachable. TIME is Unix ms, an ISO date, HH:MM (today, local time) or "now".';
  static override examples = ['<%= config.bin %> price', '<%= config.bin %> price --at 18:00 --hours 48', '<%= config.bin %> price --at 2024-06-03T12:00:00Z --json'];
  static override flags = {
    at: Flags.string({ summary: 'Instant to price: Unix ms, ISO date, HH:MM or now.', default: 'now' }),
    hours: Flags.integer({ summary: 'Hours of forecast to chart (1–168).', default: 24, min: 1, max: 168 }),
    'grid-url': Flags.string({ summary: 'Grid price service base URL.', env: 'GREENLANE_GRID_URL' }),
    ...pricingFlags,
  };

  async run(): Promise<PriceReport> {
    const at = parseTime(this.flags.at, Date.now());
    const gridUrl = this.cfg.config.gridUrl;
    const report = await priceReport({ gridUrl, gridToken: this.cfg.config.gridToken, at, hours: this.flags.hours, curve: () => pricingFromFlags(this.flags) });
    this.say(renderReport(report, process.stdout.columns ?? 80));
    return report;
  }
}
