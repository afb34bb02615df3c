import { BaseCommand } from '../cli/base-command.js';
import { engineFlags } from '../cli/flags.js';
import { table } from '../cli/output.js';
import { describeConfig } from '../config/load.js';

export default class ConfigCommand extends BaseCommand<typeof ConfigCommand> {
  static override summary = 'Print the effective configuration and where each value comes from.';
  static override description =
    'Precedence: flag > GREENLANE_* environment > greenlane.config.json (cwd or --config) > default. Secrets are redacted. With no engine configured, GreenLane runs embedded.';
  static override examples = ['<%= config.bin %> config', 'GREENLANE_REDIS_URL=redis://127.0.0.1:6379 <%= config.bin %> config --json'];
  static override flags = { ...engineFlags };

  async run() {
    const loaded = this.cfg;
    const entries = describeConfig(loaded);
    this.say(`Mode: ${loaded.mode}${loaded.file ? `   (config file: ${loaded.file})` : ''}`);
    this.say(table(['key', 'env', 'value', 'source'], entries.map((e) => [e.key, e.env, e.value === null ? '-' : Array.isArray(e.value) ? e.value.join(',') : String(e.value), e.source])));
    return { mode: loaded.mode, file: loaded.file ?? null, values: entries };
  }
}
