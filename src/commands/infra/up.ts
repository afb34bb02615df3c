import { Flags } from '@oclif/core';
import { BaseCommand } from '../../cli/base-command.js';
import { isTTY, table } from '../../cli/output.js';
import { composeUp, detectCompose, isReady, type ServiceStatus } from '../../app/infra.js';

export default class InfraUp extends BaseCommand<typeof InfraUp> {
  static override summary = 'Start Redpanda, Redis and TimescaleDB (and optionally Prometheus + Grafana) with Docker Compose.';
  static override description =
    'Runs deploy/docker-compose.yml through `docker compose` (v2) or `docker-compose` (v1) and waits until every service is healthy. Host ports match the original GreenLane: Kafka localhost:19092, Redis 6379, PostgreSQL 5432, Redpanda Console 8080; the observability profile adds Prometheus (9090) and Grafana (3000). No Docker? Run `greenlane up` in embedded mode instead.';
  static override examples = [
    '<%= config.bin %> infra up',
    '<%= config.bin %> infra up --profile observability',
    '<%= config.bin %> infra up --no-wait',
  ];
  static override flags = {
    profile: Flags.option({ options: ['observability'] as const, summary: 'Compose profile to enable as well (Prometheus + Grafana).', env: 'GREENLANE_INFRA_PROFILE' })(),
    wait: Flags.boolean({ default: true, allowNo: true, summary: 'Wait until every service is running and healthy.', env: 'GREENLANE_INFRA_WAIT' }),
    timeout: Flags.integer({ default: 180, min: 1, summary: 'Seconds to wait for health.', env: 'GREENLANE_INFRA_TIMEOUT' }),
    'compose-file': Flags.string({ summary: 'Compose file (default: the deploy/docker-compose.yml shipped with greenlane).', env: 'GREENLANE_COMPOSE_FILE' }),
  };

  async run() {
    const { profile, wait, timeout } = this.flags;
    const file = this.flags['compose-file'];
    const profiles = profile ? [profile] : [];
    const cli = await detectCompose();
    const interactive = isTTY(process.stderr) && !this.json;
    this.say(`Starting the GreenLane stack with ${cli.flavor === 'v2' ? 'docker compose' : 'docker-compose'}${profile ? ` (profile ${profile})` : ''}…`);
    let spin: ReturnType<typeof spinner> | undefined;
    const onPoll = (rows: ServiceStatus[]) => {
      // Started on the first poll so it never interleaves with Compose's own pull output.
      spin ??= interactive ? spinner('Waiting for services to be healthy') : undefined;
      spin?.update(progress(rows));
    };
    let services: ServiceStatus[];
    try {
      services = await composeUp({ file, cli, profiles, echo: interactive, wait, timeoutMs: timeout * 1000, onPoll });
      spin?.stop('All services healthy.');
    } catch (err) {
      spin?.stop();
      throw err;
    }
    this.say(table(['service', 'state', 'health', 'ports'], services.map((s) => [s.service, s.state, s.health || '-', s.ports.join(', ') || '-'])));
    this.say('');
    this.say('Run GreenLane against it (external mode):');
    this.say('  GREENLANE_KAFKA_BROKERS=localhost:19092 GREENLANE_REDIS_URL=redis://localhost:6379 \\');
    this.say('  GREENLANE_DATABASE_URL=postgres://greenlane:greenlane_password@localhost:5432/greenlane greenlane up');
    this.say(`Redpanda Console: http://localhost:8080${profile ? '   Prometheus: http://localhost:9090   Grafana: http://localhost:3000' : ''}`);
    return { compose: cli.flavor, profiles, services };
  }
}

function progress(rows: ServiceStatus[]): string {
  const pending = rows.filter((r) => !isReady(r)).map((r) => `${r.service} (${r.health || r.state})`);
  return `Waiting for services to be healthy (${rows.length - pending.length}/${rows.length})${pending.length ? `: ${pending.join(', ')}` : ''}`;
}

/** A minimal stderr spinner; only used when stderr is a TTY. */
function spinner(initial: string) {
  const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
  let text = initial;
  let i = 0;
  const draw = () => process.stderr.write(`\r\x1b[2K${frames[i++ % frames.length]} ${text}`);
  const timer = setInterval(draw, 80);
  draw();
  return {
    update(next: string) {
      text = next;
    },
    stop(final?: string) {
      clearInterval(timer);
      process.stderr.write(`\r\x1b[2K${final ? `✔ ${final}\n` : ''}`);
    },
  };
}
