#!/usr/bin/env node
// CycloneDX SBOM of what GreenLane ships: its runtime dependencies. Writes dist/sbom.cdx.json (or the
// path given) and prints the component count.
//
//   node scripts/sbom.mjs [out.json]
//
// `npm sbom --omit dev` alone drops runtime packages that a devDependency also reaches (debug, pg-types,
// cross-spawn… here; npm/cli#7909), so the full `npm sbom` is filtered to the runtime tree npm itself
// installs without dev dependencies (`npm ls --omit dev --all`, scripts/runtime-deps.mjs).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { root, runtimePackages } from './runtime-deps.mjs';

const out = resolve(root, process.argv[2] ?? 'dist/sbom.cdx.json');
const bom = JSON.parse(
  execFileSync('npm', ['sbom', '--sbom-format', 'cyclonedx', '--sbom-type', 'application'], { cwd: root, encoding: 'utf8', maxBuffer: 256 << 20 }),
);
const runtime = new Set(runtimePackages().map((p) => `${p.name}@${p.version}`));
const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8'));
const rootRef = bom.metadata?.component?.['bom-ref'];
// npm names the root component after the checkout's folder; the product is the package.
if (bom.metadata?.component) bom.metadata.component.name = pkg.name;

bom.components = bom.components.filter((c) => runtime.has(`${c.name}@${c.version}`));
const kept = new Set(bom.components.map((c) => c['bom-ref']));
const missing = [...runtime].filter((ref) => !bom.components.some((c) => `${c.name}@${c.version}` === ref));
if (missing.length > 0) throw new Error(`npm sbom has no component for runtime packages: ${missing.join(', ')}`);
bom.dependencies = (bom.dependencies ?? [])
  .filter((d) => d.ref === rootRef || kept.has(d.ref))
  .map((d) => ({
    ...d,
    // The root depends on its dependencies, not on devDependencies that happen to be runtime packages too.
    dependsOn: (d.dependsOn ?? []).filter((ref) => kept.has(ref) && (d.ref !== rootRef || ref.slice(0, ref.lastIndexOf('@')) in (pkg.dependencies ?? {}))),
  }));

mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(bom, null, 2) + '\n');
console.log(`${bom.components.length} components (runtime dependencies) -> ${out}`);
