// Writes oclif.manifest.json (every command's id, summary, flags, args, examples) from the explicit
// registry in dist/commands/index.js. oclif reads it for help and command lookup, so the CLI answers
// those without importing any command module. Run by `npm run build` after tsc.
import { rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const file = new URL('../oclif.manifest.json', import.meta.url);
rmSync(file, { force: true });
// The registry module exports the real classes instead of its lazy stand-ins while this is set.
process.env.GREENLANE_EAGER_COMMANDS = '1';
const { Config } = await import('@oclif/core');
const config = await Config.load({ root });
const plugin = config.plugins.get(config.pjson.name);
if (!plugin || Object.keys(plugin.manifest.commands).length === 0) throw new Error('oclif-manifest: no commands found');
writeFileSync(file, JSON.stringify(plugin.manifest, null, 2) + '\n');
console.log(`oclif.manifest.json: ${Object.keys(plugin.manifest.commands).length} commands`);
