import { createInterface } from 'node:readline/promises';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { UsageError } from '../../errors.js';
import { composeDown, detectCompose } from '../../app/infra.js';

export default class InfraDown extends BaseCommand<typeof InfraDown> {
  static override summary = 'Stop and remove the Docker Compose stack (optionally its data volumes).';
  static override description =
    'Runs `compose down` with every profile enabled, so Prometheus and Grafana stop too. `--volumes` also deletes Kafka, Redis, PostgreSQL, Prometheus and Grafana data; it asks first on a terminal, and needs `--yes` otherwise.';
  static override examples = ['<%= config.bin %> infra down', '<%= config.bin %> infra down --volumes', '<%= config.bin %> infra down --volumes --yes'];
  static override flags = {
    volumes: Flags.boolean({ summary: 'Also delete the named data volumes (irreversible).', default: false }),
    yes: Flags.boolean({ char: 'y', summary: 'Do not ask for confirmation.', default: false }),
    'compose-file': Flags.string({ summary: 'Compose file (default: the deploy/docker-compose.yml shipped with greenlane).', env: 'GREENLANE_COMPOSE_FILE' }),
  };

  async run() {
    const { volumes, yes } = this.flags;
    const file = this.flags['compose-file'];
    const cli = await detectCompose();
    if (volumes && !yes && !(await this.confirm('Delete all GreenLane data volumes (Kafka, Redis, PostgreSQL, Prometheus, Grafana)? [y/N] '))) {
      this.say('Aborted; nothing was removed.');
      return { compose: cli.flavor, removed: false, volumes: false };
    }
    await composeDown({ file, cli, volumes });
    this.say(volumes ? 'Stack removed, volumes deleted.' : 'Stack removed (volumes kept; pass --volumes to delete data).');
    return { compose: cli.flavor, removed: true, volumes };
  }

  /** Asks on a terminal; refuses (exit 2) when nobody can answer. */
  private async confirm(question: string): Promise<boolean> {
    if (!process.stdin.isTTY || !process.stderr.isTTY) {
      throw new UsageError('Refusing to delete volumes without confirmation: not running on a terminal.', [
        'Pass --yes to confirm: `greenlane infra down --volumes --yes`.',
      ]);
    }
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return /^y(es)?$/i.test((await rl.question(question)).trim());
    } finally {
      rl.close();
    }
  }
}
