// Record what this build was made from, so `greenlane --version` can name the commit of an installed
// package: writes dist/build-info.json ({ "version", "commit" }). Run by `npm run build` after tsc.
// Outside a git checkout (a source tarball) the commit is "unknown".
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const { version } = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));

let commit = 'unknown';
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || 'unknown';
} catch {
  // no git, or not a checkout
}

mkdirSync(new URL('dist/', root), { recursive: true });
writeFileSync(new URL('dist/build-info.json', root), JSON.stringify({ version, commit }, null, 2) + '\n');
