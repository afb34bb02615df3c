// Entry of the single executable (Node runs it as CommonJS). It hands the embedded assets to the
// program (src/util/assets.ts reads them through globalThis.__greenlaneSea) and imports the CLI, an
// ES module bundle embedded as an asset. The bundle is written once per build to the temp dir and
// imported from there, so Node's compile cache can keep its compiled code between runs (parsing
// ~10 MB of JavaScript on every start would cost seconds on a busy machine).
const sea = require('node:sea');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const nodeModule = require('node:module');

const buildInfo = JSON.parse(sea.getAsset('build-info.json', 'utf8'));

if (process.argv[2] === '--version') {
  // oclif's format, answered before any of the program loads.
  const cpu = os.arch() === 'ia32' ? 'x86' : os.arch();
  process.stdout.write(`${buildInfo.bin}/${buildInfo.version} (${buildInfo.commit}) ${os.platform()}-${cpu} node-${process.version}\n`);
  return;
}

const buildId = `${buildInfo.version}-${buildInfo.commit}-${buildInfo.bundleHash}`;
globalThis.__greenlaneSea = {
  isSea: () => sea.isSea(),
  getAsset: (key, encoding) => sea.getAsset(key, encoding),
  // In place, no copy (Node >= 20.12): src/util/assets.ts uses it to check and extract files.
  getRawAsset: typeof sea.getRawAsset === 'function' ? (key) => sea.getRawAsset(key) : undefined,
  keys: JSON.parse(sea.getAsset('assets.json', 'utf8')),
  buildInfo,
  buildId,
};

const dir = path.join(os.tmpdir(), `greenlane-${process.getuid ? process.getuid() : 'user'}`, buildId);
const file = path.join(dir, 'greenlane.mjs');
if (!fs.existsSync(file)) {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, new Uint8Array(sea.getAsset('greenlane.mjs')));
  fs.renameSync(tmp, file); // atomic: a concurrent start sees the whole file or none
}
if (typeof nodeModule.enableCompileCache === 'function') nodeModule.enableCompileCache(path.join(dir, 'compile-cache'));
import(pathToFileURL(file).href).catch((err) => {
  process.stderr.write(`greenlane: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
