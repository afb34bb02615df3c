#!/usr/bin/env node
// Fail when a runtime dependency (what `npm install greenlane` installs) carries a licence outside
// license-allowlist.json. Reads the installed runtime tree (scripts/runtime-deps.mjs) and each
// package's own package.json. SPDX expressions are evaluated: "(MIT OR Apache-2.0)" passes if either
// side is allowed, "A AND B" needs both, "X WITH exception" must be listed as a whole. A package outside
// the list passes only through an exception naming the licence it was reviewed under and a reason.
//
//   node scripts/license-check.mjs [--json]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { root, runtimePackages } from './runtime-deps.mjs';

const policy = JSON.parse(readFileSync(join(root, 'license-allowlist.json'), 'utf8'));
const allowed = new Set(policy.licenses);
const exceptions = policy.exceptions ?? {};

for (const [name, e] of Object.entries(exceptions)) {
  if (!e?.license || !e?.reason?.trim()) fail(`license-allowlist.json: exception ${name} needs "license" and "reason"`);
}

/** Whether an SPDX expression is satisfied by the allowed ids. Throws on a malformed expression. */
export function satisfies(expression, ok) {
  const tokens = expression.match(/\(|\)|[^\s()]+/g) ?? [];
  let i = 0;
  const peek = () => tokens[i];
  const next = () => tokens[i++];
  const primary = () => {
    const t = next();
    if (t === undefined) throw new Error('unexpected end');
    if (t === '(') {
      const v = or();
      if (next() !== ')') throw new Error('missing )');
      return v;
    }
    if (/^(AND|OR|WITH|\))$/i.test(t)) throw new Error(`unexpected ${t}`);
    if (peek()?.toUpperCase() === 'WITH') {
      next();
      const exception = next();
      if (!exception) throw new Error('WITH needs an exception id');
      return ok.has(`${t} WITH ${exception}`);
    }
    return ok.has(t);
  };
  const and = () => {
    let v = primary();
    while (peek()?.toUpperCase() === 'AND') { next(); v = primary() && v; }
    return v;
  };
  const or = () => {
    let v = and();
    while (peek()?.toUpperCase() === 'OR') { next(); v = and() || v; }
    return v;
  };
  const v = or();
  if (i !== tokens.length) throw new Error(`unexpected ${tokens[i]}`);
  return v;
}

function fail(message) {
  console.error(message);
  process.exit(1);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  let packages;
  try {
    packages = runtimePackages();
  } catch (err) {
    fail(err.message);
  }
  const problems = [];
  const used = new Set();
  const byLicense = new Map();
  for (const p of packages) {
    byLicense.set(p.license ?? '(none)', (byLicense.get(p.license ?? '(none)') ?? 0) + 1);
    let ok = false;
    let why = `licence ${p.license ?? '(none declared)'} is not in the allow-list`;
    if (p.license) {
      try {
        ok = satisfies(p.license, allowed);
      } catch (err) {
        why = `licence "${p.license}" is not a valid SPDX expression (${err.message})`;
      }
    }
    const exception = exceptions[p.name];
    if (!ok && exception) {
      if (exception.license === p.license) { ok = true; used.add(p.name); }
      else why += `; its exception was reviewed for ${exception.license}, re-review it`;
    }
    if (!ok) problems.push(`${p.name}@${p.version}: ${why}`);
  }
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify({ packages, problems }, null, 2));
  } else {
    const counts = [...byLicense].sort((a, b) => b[1] - a[1]).map(([l, n]) => `${l} ${n}`).join(', ');
    console.log(`${packages.length} runtime packages: ${counts}`);
    for (const name of used) console.log(`exception: ${name} (${exceptions[name].license}): ${exceptions[name].reason}`);
    for (const name of Object.keys(exceptions)) if (!used.has(name)) console.log(`note: exception ${name} matches no installed runtime package; remove it`);
  }
  if (problems.length > 0) {
    console.error(`\n${problems.length} runtime ${problems.length === 1 ? 'dependency has' : 'dependencies have'} a licence outside license-allowlist.json:`);
    for (const line of problems) console.error(`  ${line}`);
    console.error('Replace the dependency, or add an exception with the licence and a reason.');
    process.exit(1);
  }
  if (!process.argv.includes('--json')) console.log('licence check: ok');
}
