import { Flags } from '@oclif/core';
import chalk from 'chalk';
import { BaseCommand } from '../cli/base-command.js';
import { clientFlags, engineFlags } from '../cli/flags.js';
import { onShutdown } from '../cli/shutdown.js';
import { createLogger } from '../observability/logger.js';
import { DEFAULT_WEB_PORT, startWebView } from '../app/web-view.js';

export default class Web extends BaseCommand<typeof Web> {
  static override summary = 'Serve the live web map (fleet, stations, prices, KPIs) against a running server.';
  static override description = [
    'The same event stream as `greenlane tail` (the server\'s WatchEvents, or Kafka in external mode) through one WebSocket hub.',
    'Open the printed URL; the page asks for an operator token (GREENLANE_OPERATOR_TOKENS, or the embedded dev token),',
    'or pass it in the fragment: http://127.0.0.1:8080/#token=<token> (never sent in a request line or a cookie).',
  ].join('\n');
  static override examples = ['<%= config.bin %> web', '<%= config.bin %> web --web-port 9090 --server 10.0.0.5:50051',
    "<%= config.bin %> web --tiles 'https://tile.openstreetmap.org/{z}/{x}/{y}.png'",
  ];
  static override flags = {
    ...engineFlags,
    ...clientFlags,
    'web-port': Flags.integer({ summary: 'Port of the web view.', env: 'GREENLANE_WEB_PORT', default: DEFAULT_WEB_PORT, min: 0, max: 65535 }),
    bind: Flags.string({ summary: 'Address the web view binds (default 127.0.0.1).', env: 'GREENLANE_BIND' }),
    source: Flags.option({ options: ['kafka', 'server'] as const, summary: 'Where events come from (default: kafka in external mode, else the server).', env: 'GREENLANE_TAIL_SOURCE' })(),
    'grid-url': Flags.string({ summary: 'Grid price service base URL (price curve).', env: 'GREENLANE_GRID_URL' }),
    'data-dir': Flags.string({ summary: 'Where the embedded dev token lives.', env: 'GREENLANE_DATA_DIR' }),
    tiles: Flags.string({ summary: 'Basemap tile URL template, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png (default: the street grid alone, no network).', env: 'GREENLANE_WEB_TILES' }),
  };

  async run(): Promise<void> {
    const f = this.flags;
    const logger = createLogger({ level: f['log-level'] ?? 'warn', name: 'greenlane-web' });
    const web = await startWebView(this.cfg, { logger, port: f['web-port'], source: f.source, token: f.token, tiles: f.tiles });
    this.say(`${chalk.green('Web view')} ${web.url}  (operator token in the page, or ${web.url}/#token=…)`);
    this.say(chalk.dim('Ctrl-C stops.'));
    await new Promise<number>((resolve) => onShutdown(() => web.stop(), { deadlineMs: 5_000, exit: resolve }));
  }
}
