import { Args, Command } from '@oclif/core';
import { initEmbeddedStore } from '../app/engines.js';

/**
 * Internal: `greenlane up` (and any command opening the embedded store on a fresh data dir) runs
 * this as a short-lived process to create PGlite's database, so the memory initdb takes is given
 * back to the system when it exits instead of staying in the long-running process
 * (src/adapters/pglite/pglite-store.ts).
 */
export default class StoreInit extends Command {
  static override hidden = true;
  static override summary = "Create the embedded store's database in a fresh PGlite data dir (internal; `up` runs it).";
  static override examples = ['<%= config.bin %> store:init ~/.greenlane/pglite'];
  static override args = {
    dir: Args.string({ description: 'The PGlite data dir.', required: true }),
  };

  async run(): Promise<void> {
    const { args } = await this.parse(StoreInit);
    await initEmbeddedStore(args.dir);
  }
}
