// The single executable's program: the CLI as one ES module (bundled by scripts/build-binary.mjs),
// loaded by scripts/sea/main.cjs from an embedded asset. oclif normally finds package.json, its
// manifest and the command registry as files next to the package; here all three are inside the
// bundle and handed to oclif directly.
import { Config, Plugin, flush, handle, run } from '@oclif/core';
import manifest from '../../oclif.manifest.json' with { type: 'json' };
import pkg from '../../package.json' with { type: 'json' };
import { COMMANDS } from '../../src/commands/lazy.ts';

const argv = process.argv.slice(2);

// (`--version` is answered by scripts/sea/main.cjs before this module loads.)
{
  // The root plugin reads its manifest and commands from the bundle instead of the package folder.
  // (Both methods are oclif internals; test/release/binary.test.ts catches a change.)
  for (const name of ['_manifest', 'loadCommandsFromTarget']) {
    if (typeof Plugin.prototype[name] !== 'function') throw new Error(`greenlane: oclif has no Plugin.${name}; the single executable needs updating`);
  }
  const ownManifest = Plugin.prototype._manifest;
  const ownCommands = Plugin.prototype.loadCommandsFromTarget;
  Plugin.prototype._manifest = async function () {
    if (!this.isRoot) return ownManifest.call(this);
    this.hasManifest = true;
    return manifest;
  };
  Plugin.prototype.loadCommandsFromTarget = async function () {
    return this.isRoot ? COMMANDS : ownCommands.call(this);
  };
  // Plugins are not embedded (shell completion comes with the npm package).
  const pjson = { ...pkg, oclif: { ...pkg.oclif, plugins: [] } };
  const config = await Config.load({ root: process.cwd(), pjson, isRoot: true });
  await run(argv, config).then(() => flush()).catch(handle);
}
