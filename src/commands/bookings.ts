import { Flags } from '@oclif/core';
import { BaseCommand } from '../cli/base-command.js';
import { clientFlags, engineFlags } from '../cli/flags.js';
import { duration, table } from '../cli/output.js';
import { createLogger } from '../observability/logger.js';
import { bookingFilters, type BookingList, type BookingListRow } from '../services/queries/fleet-queries.js';
import { openFleetQueries } from '../app/operator-queries.js';

export default class Bookings extends BaseCommand<typeof Bookings> {
  static override summary = 'Active bookings: holds with their expiry countdown, charging sessions, and the queue in service order.';
  static override description = [
    '--status active shows holds and sessions, queued the queue (critical cars first, then lowest battery, then longest waiting), all both.',
    'Countdowns use the clock of whoever answered. Embedded mode asks the running server (ListBookings RPC); external mode reads Redis.',
  ].join('\n');
  static override examples = ['<%= config.bin %> bookings', '<%= config.bin %> bookings --status queued', '<%= config.bin %> bookings --json | jq ".bookings | length"'];
  static override flags = {
    ...engineFlags,
    ...clientFlags,
    'data-dir': Flags.string({ summary: 'Where the embedded dev token lives.', env: 'GREENLANE_DATA_DIR' }),
    status: Flags.option({ options: bookingFilters, summary: 'Which bookings.', default: 'all' as const, env: 'GREENLANE_BOOKINGS_STATUS' })(),
  };

  async run(): Promise<BookingList & { source: string; status: string }> {
    const status = this.flags.status;
    const queries = await openFleetQueries(this.cfg, { logger: createLogger({ level: this.flags['log-level'] ?? 'error', name: 'bookings' }), token: this.flags.token, need: ['redis'] });
    try {
      const list = await queries.listBookings(status);
      this.render(list, status);
      return { source: queries.source, status, ...list };
    } finally {
      await queries.close();
    }
  }

  private render(list: BookingList, status: string): void {
    const active = list.bookings.filter((b) => b.status !== 'queued');
    const queued = list.bookings.filter((b) => b.status === 'queued');
    if (status !== 'queued') {
      this.say(active.length ? table(['booking', 'car', 'station', 'state', 'expires in / charging for', 'battery'], active.map((b) => activeRow(b, list.at))) : 'No holds or charging sessions.');
    }
    if (status === 'all') this.say('');
    if (status !== 'active') {
      this.say(queued.length ? table(['#', 'car', 'battery', 'critical', 'waiting', 'can reach'], queued.map((b) => queueRow(b, list.at))) : 'Queue empty.');
    }
  }
}

function activeRow(b: BookingListRow, now: number): (string | number)[] {
  const when = b.status === 'held' ? (b.expiresAt! <= now ? 'due' : duration(b.expiresAt! - now)) : `charging ${duration(now - (b.chargingSince ?? now))}`;
  return [b.bookingId, b.carId, b.stationId ?? '', b.status, when, `${b.battery.toFixed(1)}%`];
}

function queueRow(b: BookingListRow, now: number): (string | number)[] {
  const reach = b.candidates.length > 3 ? `${b.candidates.slice(0, 3).join(', ')} +${b.candidates.length - 3}` : b.candidates.join(', ');
  return [b.queuePosition, b.carId, `${b.battery.toFixed(1)}%`, b.critical ? 'yes' : '', duration(now - (b.waitingSince ?? now)), reach];
}
