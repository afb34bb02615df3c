import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { composeLogs } from '../../app/infra.js';

export default class InfraLogs extends BaseCommand<typeof InfraLogs> {
  static override summary = 'Print (or follow) the logs of the Docker Compose stack or one service.';
  static override description = 'Streams `compose logs`. With --follow it runs until Ctrl-C, which stops it cleanly.';
  static override examples = ['<%= config.bin %> infra logs', '<%= config.bin %> infra logs redis', '<%= config.bin %> infra logs redpanda -f --tail 100'];
  static override enableJsonFlag = false;
  static override args = {
    service: Args.string({ description: 'Service: redpanda, console, redis, timescaledb, prometheus or grafana (default: all).' }),
  };
  static override flags = {
    follow: Flags.boolean({ char: 'f', summary: 'Keep streaming new log lines until Ctrl-C.', default: false }),
    tail: Flags.integer({ min: 0, summary: 'Only the last N lines per service.' }),
    'compose-file': Flags.string({ summary: 'Compose file (default: the deploy/docker-compose.yml shipped with greenlane).', env: 'GREENLANE_COMPOSE_FILE' }),
  };

  async run() {
    const { args } = await this.parse(InfraLogs);
    // Ctrl-C ends the stream, not the process. A persistent listener (not `once`) matters: execa's
    // signal-exit re-raises a signal when it sees no other listener left, which would kill us mid-cleanup.
    const ac = new AbortController();
    const stop = () => ac.abort();
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    try {
      await composeLogs({ file: this.flags['compose-file'], service: args.service, follow: this.flags.follow, tail: this.flags.tail, signal: ac.signal });
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  }
}
