import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import type { Mode } from './load.js';
import type { Config } from './schema.js';

export const DEV_TOKEN_FILE = 'dev-token';
export const TOKEN_SECRET_FILE = 'token-secret';

export function devTokenPath(dataDir: string): string {
  return join(dataDir, DEV_TOKEN_FILE);
}

/**
 * The embedded-mode token: 32 random bytes (hex) in `${dataDir}/dev-token`, readable by the user
 * only (file 0600, dir 0700). Created once; later calls return the same token, so `greenlane sim`
 * and `greenlane tail` in another terminal find it.
 */
export function ensureDevToken(dataDir: string): string {
  return ensureSecretFile(dataDir, DEV_TOKEN_FILE);
}

/** 32 random bytes (hex) in `${dataDir}/${file}` (0600, dir 0700), created once and then reused. */
function ensureSecretFile(dataDir: string, file: string): string {
  const existing = readSecretFile(dataDir, file);
  if (existing) return existing;
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
  const token = randomBytes(32).toString('hex');
  const path = join(dataDir, file);
  try {
    // 'wx' so two processes starting at once cannot overwrite each other's token.
    writeFileSync(path, token + '\n', { mode: 0o600, flag: 'wx' });
    return token;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const raced = readSecretFile(dataDir, file);
    if (!raced) throw new ConfigError(`${path} exists but is empty`, [`Delete ${path} and start again.`]);
    return raced;
  }
}

/** The dev token, or null when none was generated yet (embedded server never started). */
export function readDevToken(dataDir: string): string | null {
  return readSecretFile(dataDir, DEV_TOKEN_FILE);
}

function readSecretFile(dataDir: string, file: string): string | null {
  const path = join(dataDir, file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  // A token others can read is not a secret; refuse rather than silently trust it.
  if ((statSync(path).mode & 0o077) !== 0)
    throw new ConfigError(`${path} is readable by other users`, [`Run \`chmod 600 ${path}\` or delete it so a new token is generated.`]);
  return text || null;
}

/**
 * Tokens the server accepts. External mode needs GREENLANE_API_TOKENS: no default token is ever
 * accepted there. Embedded mode accepts the configured tokens plus the dev token (created if missing).
 */
export function resolveTokens(config: Pick<Config, 'apiTokens'> & { dataDir: string }, mode: Mode): string[] {
  const configured = config.apiTokens ?? [];
  if (mode === 'external') {
    if (!configured.length)
      throw new ConfigError('External mode needs API tokens: GREENLANE_API_TOKENS is not set', [
        'Set GREENLANE_API_TOKENS=<token>[,<token>…] (e.g. `openssl rand -hex 32`) and give clients the same value as GREENLANE_API_TOKEN.',
      ]);
    return [...new Set(configured)];
  }
  return [...new Set([...configured, ensureDevToken(config.dataDir)])];
}

/** The token a local client should present: an explicit one, else the embedded dev token. */
export function clientToken(explicit: string | undefined, dataDir: string): string {
  if (explicit) return explicit;
  const dev = readDevToken(dataDir);
  if (!dev)
    throw new ConfigError(`No API token: pass --token (GREENLANE_API_TOKEN) or start \`greenlane up\` so it creates ${devTokenPath(dataDir)}`, [
      'Run `greenlane up` in another terminal (embedded mode), or pass --token <one of GREENLANE_API_TOKENS>.',
    ]);
  return dev;
}

/** What ingestion accepts: fleet tokens, operator tokens and the car-token secret (docs/SECURITY.md). */
export interface ServerCredentials {
  fleet: string[];
  operator: string[];
  tokenSecret?: string;
}

/**
 * External mode: GREENLANE_API_TOKENS (fleet) and/or GREENLANE_OPERATOR_TOKENS, car tokens only with
 * GREENLANE_TOKEN_SECRET — never a default. Embedded mode adds the dev token as fleet and operator,
 * and uses (creating it if missing) a secret in the data dir when none is configured.
 */
export function resolveCredentials(config: Pick<Config, 'apiTokens' | 'operatorTokens' | 'tokenSecret'> & { dataDir: string }, mode: Mode): ServerCredentials {
  const operator = [...new Set(config.operatorTokens ?? [])];
  if (mode === 'external') {
    const fleet = config.apiTokens?.length || !operator.length ? resolveTokens(config, mode) : [];
    return { fleet, operator, tokenSecret: config.tokenSecret };
  }
  const fleet = resolveTokens(config, mode);
  const dev = ensureDevToken(config.dataDir);
  return { fleet, operator: [...new Set([...operator, dev])], tokenSecret: config.tokenSecret ?? ensureSecretFile(config.dataDir, TOKEN_SECRET_FILE) };
}

/** The secret `greenlane token issue` signs with: the configured one, else (embedded only) the data dir's. */
export function issuingSecret(config: Pick<Config, 'tokenSecret'> & { dataDir: string }, mode: Mode): string {
  if (config.tokenSecret) return config.tokenSecret;
  if (mode === 'embedded') return ensureSecretFile(config.dataDir, TOKEN_SECRET_FILE);
  throw new ConfigError('Issuing car tokens needs the server secret: GREENLANE_TOKEN_SECRET is not set', [
    'Set GREENLANE_TOKEN_SECRET to the value the ingestion servers use (e.g. `openssl rand -hex 32`, at least 32 characters).',
  ]);
}
