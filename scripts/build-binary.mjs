// Builds the single executable: dist/greenlane-<version>-linux-x64 (Node's single executable
// application) plus a .tar.gz of it and the tarball's .sha256. Run after `npm run build` (the
// manifest and dist/build-info.json come from there); `npm run build:binary` does both.
//
// 1. The CLI is bundled into one ES module (the bundler follows the lazy imports, so each command
//    and each engine client is still only evaluated when used).
// 2. It is embedded, base64, with the files the program reads (proto, Lua, migrations, deploy/,
//    the web map's page, PGlite's wasm and data) as assets; scripts/sea/main.cjs is the entry Node runs.
// 3. The blob is injected into a copy of Node 24 (scripts/node24.sh), or of this Node if that fails.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { inkBoundPlugin } from './sea/ink-bound-plugin.mjs';

const root = fileURLToPath(new URL('../', import.meta.url)).replace(/\/$/, '');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const out = join(root, 'dist', 'sea');
const name = `greenlane-${pkg.version}-linux-x64`;
const binary = join(root, 'dist', name);
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

// 1. bundle
const bundle = join(out, 'greenlane.mjs');
const inkBound = inkBoundPlugin();
await build({
  entryPoints: [join(root, 'scripts/sea/entry.mjs')],
  outfile: bundle,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  jsx: 'automatic',
  minify: true,
  keepNames: true,
  legalComments: 'none',
  logLevel: 'warning',
  // Optional native modules CommonJS dependencies try to require() and do without.
  external: ['pg-native', 'bufferutil', 'utf-8-validate', 'fsevents'],
  // Ink imports its devtools bridge only when DEV=true; an ES import cannot stay external (it would
  // be resolved at start), so it becomes an inert module.
  plugins: [
    // Ink's text-measure caches, bounded (src/tui/ink-bounded.ts).
    inkBound.plugin,
    {
      name: 'no-devtools',
      setup(b) {
        b.onResolve({ filter: /^react-devtools-core$/ }, () => ({ path: 'react-devtools-core', namespace: 'stub' }));
        b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({ contents: 'export default { initialize() {}, connectToDevTools() {} };' }));
      },
    },
  ],
  // CommonJS dependencies call require() and read __dirname; give them both in the ES module.
  banner: {
    js: [
      "import { createRequire as __glCreateRequire } from 'node:module';",
      'const require = __glCreateRequire(import.meta.url);',
      "const __filename = new URL(import.meta.url).pathname;",
      "const __dirname = require('node:path').dirname(__filename);",
    ].join('\n'),
  },
});
// The bound must be in: were Ink's modules renamed or moved, the console would grow unbounded again.
for (const m of ['measure-text', 'wrap-text']) {
  if (!inkBound.replaced.has(m)) throw new Error(`build-binary: Ink's ${m} module was not replaced by the bounded one (scripts/sea/ink-bound-plugin.mjs)`);
}
const code = readFileSync(bundle);
const bundleHash = createHash('sha256').update(code).digest('hex').slice(0, 12);

// 2. assets: key = path in the package (src/util/assets.ts)
const assets = {};
const addFile = (key, file) => (assets[key] = file);
const addDir = (relDir, filter = () => true) => {
  for (const entry of readdirSync(join(root, relDir), { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = join(entry.parentPath ?? entry.path, entry.name);
    const key = relative(root, file).split('\\').join('/');
    if (filter(key)) addFile(key, file);
  }
};
addFile('proto/fleet.proto', join(root, 'proto/fleet.proto'));
addDir('src/adapters/redis/lua', (k) => k.endsWith('.lua'));
addDir('src/adapters/postgres/migrations', (k) => k.endsWith('.sql'));
addDir('deploy');
// The web map's built page (`npm run build:web`), served by `greenlane up` and `greenlane web`.
addDir('dist/web/public');
const pglite = dirname(fileURLToPath(import.meta.resolve('@electric-sql/pglite')));
for (const f of ['pglite.wasm', 'initdb.wasm', 'pglite.data']) addFile(`pglite/${f}`, join(pglite, f));
const buildInfo = { ...JSON.parse(readFileSync(join(root, 'dist/build-info.json'), 'utf8')), bin: pkg.oclif.bin, bundleHash };
writeFileSync(join(out, 'build-info.json'), JSON.stringify(buildInfo));
writeFileSync(join(out, 'assets.json'), JSON.stringify(Object.keys(assets).sort()));
Object.assign(assets, {
  'build-info.json': join(out, 'build-info.json'),
  'greenlane.mjs': bundle,
  'assets.json': join(out, 'assets.json'),
});

// 3. blob, made by the Node that becomes the executable, injected into a copy of it
let node;
try {
  node = execFileSync(join(root, 'scripts/node24.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
} catch {
  console.warn('build-binary: Node 24 unavailable, embedding this Node', process.version);
  node = process.execPath;
}
const seaConfig = join(out, 'sea-config.json');
const blob = join(out, 'sea-prep.blob');
writeFileSync(
  seaConfig,
  JSON.stringify({ main: join(root, 'scripts/sea/main.cjs'), output: blob, disableExperimentalSEAWarning: true, useCodeCache: false, useSnapshot: false, assets }, null, 2),
);
execFileSync(node, ['--experimental-sea-config', seaConfig], { stdio: 'inherit' });
rmSync(binary, { force: true });
copyFileSync(node, binary);
chmodSync(binary, 0o755);
execFileSync(
  process.execPath,
  [join(root, 'node_modules/postject/dist/cli.js'), binary, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2'],
  { stdio: ['ignore', 'ignore', 'inherit'] },
);
const nodeVersion = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();

// tarball (the executable named greenlane inside) and its checksum
const stage = join(out, 'stage');
mkdirSync(stage, { recursive: true });
copyFileSync(binary, join(stage, 'greenlane'));
chmodSync(join(stage, 'greenlane'), 0o755);
const tarball = `${binary}.tar.gz`;
execFileSync('tar', ['-czf', tarball, '-C', stage, 'greenlane']);
const sha = createHash('sha256').update(readFileSync(tarball)).digest('hex');
writeFileSync(`${tarball}.sha256`, `${sha}  ${name}.tar.gz\n`);
rmSync(stage, { recursive: true, force: true });
console.log(JSON.stringify({ binary: relative(root, binary), bytes: statSync(binary).size, version: nodeVersion, tarball: relative(root, tarball), sha256: sha }));
