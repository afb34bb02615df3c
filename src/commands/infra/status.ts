import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { table } from '../../cli/output.js';
import { composeStatus, detectCompose } from '../../app/infra.js';

export default class InfraStatus extends BaseCommand<typeof InfraStatus> {
  static override summary = 'Show the Docker Compose stack: service, state, health and ports.';
  static override description = 'Lists every container of the greenlane compose project, stopped ones and the observability profile included.';
  static override examples = ['<%= config.bin %> infra status', '<%= config.bin %> infra status --json'];
  static override flags = {
    'compose-file': Flags.string({ summary: 'Compose file (default: the deploy/docker-compose.yml shipped with greenlane).', env: 'GREENLANE_COMPOSE_FILE' }),
  };

  async run() {
    const cli = await detectCompose();
    const services = await composeStatus({ file: this.flags['compose-file'], cli });
    if (services.length === 0) this.say('No GreenLane containers. Start them with `greenlane infra up`.');
    else this.say(table(['service', 'state', 'health', 'ports'], services.map((s) => [s.service, s.state, s.health || '-', s.ports.join(', ') || '-'])));
    return { compose: cli.flavor, services };
  }
}
