import { redactUrlsIn } from '../util/redact.js';
import { Command, Flags, type Interfaces } from '@oclif/core';
import chalk from 'chalk';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { configKeys, flagName, type ConfigKey } from '../config/schema.js';
import { GreenlaneError } from '../errors.js';
import { ExitCode, exitCodeFor } from './exit-codes.js';

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>;

/**
 * Owns config loading, the --json envelope, error rendering with next steps and exit codes.
 * Subclasses implement run() and return data; human output only when --json is off.
 */
export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true;
  static override baseFlags = {
    config: Flags.string({ summary: 'Path to greenlane.config.json.', env: 'GREENLANE_CONFIG', helpGroup: 'GLOBAL' }),
    'log-level': Flags.option({ options: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, summary: 'Log level.', env: 'GREENLANE_LOG_LEVEL', helpGroup: 'GLOBAL' })(),
  };

  protected flags!: BaseFlags<T>;
  private loaded?: LoadedConfig;

  public override async init(): Promise<void> {
    await super.init();
    const { flags } = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict,
    });
    this.flags = flags as BaseFlags<T>;
  }

  /** The effective configuration; flags that share a config key's name override it. */
  protected get cfg(): LoadedConfig {
    if (!this.loaded) {
      const f = this.flags as Record<string, unknown>;
      const fromFlags: Partial<Record<ConfigKey, unknown>> = {};
      for (const key of configKeys) if (f[flagName(key)] !== undefined) fromFlags[key] = f[flagName(key)];
      this.loaded = loadConfig({ flags: fromFlags, configPath: f.config as string | undefined });
    }
    return this.loaded;
  }

  protected get json(): boolean {
    return this.jsonEnabled();
  }

  /** Human output; silent under --json. */
  protected say(message = ''): void {
    if (!this.json) this.log(message);
  }

  protected override toErrorJson(err: unknown): unknown {
    const e = err as GreenlaneError & { oclif?: { exit?: number } };
    return {
      error: {
        code: e.code ?? 'ERROR',
        message: redactUrlsIn(e.message),
        exitCode: exitCodeFor(e),
        suggestions: e.suggestions ?? [],
      },
    };
  }

  protected override async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    if (err instanceof GreenlaneError) {
      if (this.jsonEnabled()) this.logJson(this.toErrorJson(err));
      else {
        // No credential-bearing URL reaches the terminal, whatever produced the message.
        process.stderr.write(`${chalk.red('Error:')} ${redactUrlsIn(err.message)}\n`);
        for (const s of err.suggestions) process.stderr.write(`${chalk.dim('→')} ${redactUrlsIn(s)}\n`);
      }
      this.exit(exitCodeFor(err));
    }
    // oclif parse errors are usage errors (exit 2).
    if (err.oclif?.exit === undefined && /Parse|Flag|Arg|Nonexistent|Required|Expected/i.test(err.name + err.constructor?.name)) {
      (err as { oclif?: { exit: number } }).oclif = { exit: ExitCode.usage };
    }
    return super.catch(err);
  }
}
