import { Command } from '@oclif/core';

/**
 * The command registry oclif loads at run time (package.json `oclif.commands.target`): the same ids
 * as the explicit registry in ./index.ts, each a stand-in that imports its command module only when
 * that command runs. Help, `--version` and command lookup read the metadata from
 * oclif.manifest.json (written by `npm run build` from ./index.ts), so they load no command module
 * and therefore no engine client. test/unit/lazy-commands.test.ts keeps the two lists equal.
 *
 * Under oclif's development mode (bin/dev.js) and while the manifest is generated, the real classes
 * are exported instead, so help works from source without a manifest.
 */

type CommandClass = typeof Command & { id: string };
type Loader = () => Promise<{ default: unknown }>;

export const COMMAND_LOADERS: Record<string, Loader> = {
  bookings: () => import('./bookings.js'),
  config: () => import('./config.js'),
  doctor: () => import('./doctor.js'),
  grid: () => import('./grid.js'),
  'infra:down': () => import('./infra/down.js'),
  'infra:logs': () => import('./infra/logs.js'),
  'infra:status': () => import('./infra/status.js'),
  'infra:up': () => import('./infra/up.js'),
  ingestion: () => import('./ingestion.js'),
  price: () => import('./price.js'),
  sessions: () => import('./sessions.js'),
  sim: () => import('./sim.js'),
  smoke: () => import('./smoke.js'),
  'stations:list': () => import('./stations/list.js'),
  'stations:load': () => import('./stations/load.js'),
  'stations:nearest': () => import('./stations/nearest.js'),
  'stations:offline': () => import('./stations/offline.js'),
  'stations:online': () => import('./stations/online.js'),
  'store:init': () => import('./store-init.js'),
  tail: () => import('./tail.js'),
  'token:issue': () => import('./token/issue.js'),
  up: () => import('./up.js'),
  web: () => import('./web.js'),
  worker: () => import('./worker.js'),
};

/** A stand-in whose run() loads the real command class and runs it with the same argv and config. */
function lazyCommand(id: string, load: Loader): typeof Command {
  class LazyCommand extends Command {
    static override id = id;
    async run(): Promise<void> {}
  }
  // Replaces oclif's static run (which would construct the stand-in) with one that hands over.
  Object.defineProperty(LazyCommand, 'run', {
    value: async function run(this: CommandClass, argv?: string[], opts?: unknown): Promise<unknown> {
      const real = (await load()).default as CommandClass & { run(argv?: string[], opts?: unknown): Promise<unknown> };
      real.id = this.id;
      real.plugin = this.plugin;
      return real.run(argv, opts);
    },
  });
  return LazyCommand;
}

const eager = process.env.NODE_ENV === 'development' || process.env.GREENLANE_EAGER_COMMANDS === '1';

export const COMMANDS: Record<string, typeof Command> = eager
  ? ((await import('./index.js')).COMMANDS as Record<string, typeof Command>)
  : Object.fromEntries(Object.entries(COMMAND_LOADERS).map(([id, load]) => [id, lazyCommand(id, load)]));
