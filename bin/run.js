#!/usr/bin/env node
// `greenlane --version` also names the commit the build came from (dist/build-info.json, written by
// `npm run build`), in oclif's own format: greenlane/0.1.0 (abc1234) linux-x64 node-v24.x. Same trigger
// as oclif's version flag (the first argument). Answered here because loading oclif's config imports
// every command, and with them the engine clients.
if (process.argv[2] === '--version') {
  const { readFile } = await import('node:fs/promises');
  const { arch, platform } = await import('node:os');
  const json = (path) => readFile(new URL(path, import.meta.url), 'utf8').then(JSON.parse);
  const pkg = await json('../package.json');
  const { commit } = await json('../dist/build-info.json').catch(() => ({ commit: 'unknown' }));
  const cpu = arch() === 'ia32' ? 'x86' : arch();
  process.stdout.write(`${pkg.oclif?.bin ?? pkg.name}/${pkg.version} (${commit ?? 'unknown'}) ${platform()}-${cpu} node-${process.version}\n`);
} else {
  const { execute } = await import('@oclif/core');
  await execute({ dir: import.meta.url });
}
