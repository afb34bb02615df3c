import { Flags } from '@oclif/core';
import { openTailSources } from '../app/tail-sources.js';
import { BaseCommand } from '../cli/base-command.js';
import { clientFlags, engineFlags } from '../cli/flags.js';
import { untilSignal } from '../cli/shutdown.js';
import { createLogger, silentLogger } from '../observability/logger.js';
import type { TailOutput } from '../tui/run-tail.js';

export default class Tail extends BaseCommand<typeof Tail> {
  static override summary = 'Watch the fleet live: a terminal dashboard over the fleet-events stream.';
  static override description = [
    'External mode tails the Kafka fleet-events topic with its own consumer group (latest offset unless --from-beginning);',
    'embedded mode watches the running `greenlane up` server over gRPC. --source overrides the detection.',
    'Station occupancy (holds, sessions, queue, price) is polled every 2 s from the server (ListStations) or, with Kafka, from Redis;',
    'without either the panel counts only the bookings seen since tail started.',
    'Full screen (the alternate screen, restored on exit). Keys: Tab stations/cars · ↑↓ j k select · Enter details · x cancel a booking · b request one',
    '· / search · n nearest stations · c critical only · p pause · PgUp/PgDn scroll the feed · f follow · ? help · q quit.',
    'Actions go through the server (RequestBooking, CancelBooking), which may refuse them without an operator token. A refused token exits 3.',
    'When stdout is not a terminal (or with --plain) it prints one line per event; --json prints NDJSON.',
    'The session summary goes to stdout after the dashboard, to stderr in plain and NDJSON modes.',
  ].join(' ');
  static override examples = [
    '<%= config.bin %> tail',
    '<%= config.bin %> tail --source kafka --from-beginning',
    '<%= config.bin %> tail --plain --limit 100',
    '<%= config.bin %> tail --json --duration 10 | jq .battery',
    '<%= config.bin %> tail --source synthetic --rate 10000',
  ];
  // --json streams NDJSON while running rather than printing run()'s result at the end.
  static override enableJsonFlag = false;
  static override flags = {
    ...engineFlags,
    ...clientFlags,
    source: Flags.option({ options: ['kafka', 'server', 'synthetic'] as const, summary: 'Where events come from (default: kafka in external mode, server in embedded mode or when --server is given).', env: 'GREENLANE_TAIL_SOURCE' })(),
    'from-beginning': Flags.boolean({ summary: 'Kafka: replay the topic from the earliest offset.', env: 'GREENLANE_TAIL_FROM_BEGINNING', default: false }),
    plain: Flags.boolean({ summary: 'One line per event (the original format), no dashboard.', env: 'GREENLANE_TAIL_PLAIN', default: false, exclusive: ['json'] }),
    json: Flags.boolean({ summary: 'NDJSON: one event object per line.', env: 'GREENLANE_TAIL_JSON', default: false }),
    limit: Flags.integer({ summary: 'Stop after this many events.', env: 'GREENLANE_TAIL_LIMIT', min: 1 }),
    duration: Flags.integer({ summary: 'Stop after this many seconds.', env: 'GREENLANE_TAIL_DURATION', min: 1 }),
    'grid-url': Flags.string({ summary: 'Grid price service base URL (price panel).', env: 'GREENLANE_GRID_URL' }),
    'stations-file': Flags.string({ summary: 'Stations JSON for the map, stations panel and nearest queries.', env: 'GREENLANE_STATIONS_FILE' }),
    'data-dir': Flags.string({ summary: 'Where the embedded dev token lives.', env: 'GREENLANE_DATA_DIR' }),
    rate: Flags.integer({ summary: 'Synthetic source: events per second.', env: 'GREENLANE_TAIL_RATE', default: 1000, min: 1 }),
    cars: Flags.integer({ summary: 'Synthetic source: number of cars.', env: 'GREENLANE_TAIL_CARS', default: 100, min: 1 }),
  };

  async run(): Promise<void> {
    const f = this.flags;
    const output: TailOutput = f.json ? 'json' : f.plain || !process.stdout.isTTY || !process.stdin.isTTY ? 'plain' : 'tui';
    // Ink freezes its CI check when first imported and then draws only a final frame; an operator at
    // an interactive terminal wants the live screen even where CI is set. Ink loads lazily, after this.
    if (output === 'tui') for (const k of ['CI', 'CONTINUOUS_INTEGRATION']) delete process.env[k];
    // React's development build records a performance measure (holding props) per component render:
    // ~600 a second here, unbounded. The console runs React's production build unless told otherwise.
    if (output === 'tui') process.env.NODE_ENV ??= 'production';
    const { runTail } = await import('../tui/run-tail.js');
    const logger = output === 'tui' ? silentLogger : createLogger({ level: f['log-level'] ?? 'warn', pretty: false });
    const sources = await openTailSources(this.cfg, { logger, source: f.source, token: f.token, fromBeginning: f['from-beginning'], rate: f.rate, cars: f.cars });

    const stop = untilSignal();
    try {
      await runTail({
        sources,
        output,
        limit: f.limit,
        durationSec: f.duration,
        signal: stop.signal,
      });
    } finally {
      stop.dispose();
    }
  }
}
