import { readFileSync, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { redactUrl, redactUrlsIn } from '../util/redact.js';
import { configKeys, configSchema, envName, secretKeys, urlKeys, type Config, type ConfigKey } from './schema.js';

export type ConfigSource = 'flag' | 'env' | 'file' | 'default';
export type Mode = 'embedded' | 'external';

export interface LoadedConfig {
  config: Config & { dataDir: string };
  sources: Record<ConfigKey, ConfigSource>;
  file?: string;
  mode: Mode;
}

export interface LoadOptions {
  flags?: Partial<Record<ConfigKey, unknown>>;
  env?: NodeJS.ProcessEnv;
  configPath?: string;
  cwd?: string;
}

export const CONFIG_FILE = 'greenlane.config.json';

/** Precedence: flag > GREENLANE_* env > greenlane.config.json > default. Invalid values are ConfigErrors. */
export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  const env = opts.env ?? process.env;
  const { values: fileValues, path: file } = readConfigFile(opts.configPath, opts.cwd ?? process.cwd());
  const raw: Partial<Record<ConfigKey, unknown>> = {};
  const sources = {} as Record<ConfigKey, ConfigSource>;
  for (const key of configKeys) {
    const flag = opts.flags?.[key];
    const fromEnv = env[envName(key)];
    if (flag !== undefined && flag !== fromEnv) [raw[key], sources[key]] = [flag, 'flag'];
    else if (fromEnv !== undefined && fromEnv !== '') [raw[key], sources[key]] = [fromEnv, 'env'];
    else if (fileValues[key] !== undefined) [raw[key], sources[key]] = [fileValues[key], 'file'];
    else sources[key] = 'default';
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = String(issue.path[0]) as ConfigKey;
    const value = secretKeys.has(key) ? '<redacted>' : redactUrlsIn(JSON.stringify(raw[key]));
    throw new ConfigError(
      `Invalid configuration ${key} (${envName(key)}) = ${value} from ${sources[key]}: ${issue.message}`,
      [`Fix ${envName(key)}, the --${key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} flag or ${CONFIG_FILE}.`],
    );
  }
  const config = { ...parsed.data, dataDir: parsed.data.dataDir ?? defaultDataDir(env) };
  return { config, sources, file, mode: modeOf(config) };
}

export function modeOf(config: Pick<Config, 'kafkaBrokers' | 'redisUrl' | 'databaseUrl'>): Mode {
  const configured = [config.kafkaBrokers?.length, config.redisUrl, config.databaseUrl].filter(Boolean).length;
  return configured === 0 ? 'embedded' : 'external';
}

/** External services need every engine; a half-configured stack would silently split state. */
export function assertCompleteExternal(config: Config): void {
  if (modeOf(config) === 'embedded') return;
  const missing = (['kafkaBrokers', 'redisUrl', 'databaseUrl'] as const).filter((k) => !config[k] || (Array.isArray(config[k]) && !config[k]!.length));
  if (missing.length)
    throw new ConfigError(`External mode needs Kafka, Redis and PostgreSQL; missing: ${missing.map(envName).join(', ')}`, [
      'Set the missing values, run `greenlane infra up`, or unset all engine settings to run embedded.',
    ]);
}

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(base, 'greenlane');
}

function readConfigFile(explicit: string | undefined, cwd: string): { values: Record<string, unknown>; path?: string } {
  const path = explicit ? resolve(cwd, explicit) : join(cwd, CONFIG_FILE);
  if (!existsSync(path)) {
    if (explicit) throw new ConfigError(`Config file not found: ${path}`, ['Check the --config path.']);
    return { values: {} };
  }
  try {
    const values = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof values !== 'object' || values === null || Array.isArray(values)) throw new Error('expected a JSON object');
    const unknown = Object.keys(values).filter((k) => !configKeys.includes(k as ConfigKey));
    if (unknown.length) throw new Error(`unknown keys ${unknown.join(', ')}; allowed: ${configKeys.join(', ')}`);
    return { values, path };
  } catch (err) {
    throw new ConfigError(`Cannot read ${path}: ${(err as Error).message}`, [`Fix or remove ${path}.`]);
  }
}

/** The effective configuration for display: secrets redacted, each value with its source. */
export function describeConfig(loaded: LoadedConfig): { key: ConfigKey; env: string; value: unknown; source: ConfigSource }[] {
  return configKeys.map((key) => {
    const value = loaded.config[key];
    return { key, env: envName(key), value: displayValue(key, value) ?? null, source: loaded.sources[key] };
  });
}

/** A configuration value as it may be printed: secrets masked, passwords in URLs masked. */
export function displayValue(key: ConfigKey, value: unknown): unknown {
  if (value === undefined || value === null) return value;
  if (secretKeys.has(key)) return Array.isArray(value) ? value.map(() => '********') : '********';
  if (urlKeys.has(key) && typeof value === 'string') return redactUrl(value);
  return value;
}
