import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/commands/index.js';

type CommandClass = { summary?: string; examples?: unknown[]; flags?: Record<string, { env?: string; summary?: string; description?: string }> };

describe('every command is self-explanatory', () => {
  const entries = Object.entries(COMMANDS as Record<string, CommandClass>);

  it('has the commands the issues name', () => {
    const ids = entries.map(([id]) => id);
    for (const id of ['up', 'ingestion', 'worker', 'grid', 'sim', 'tail', 'smoke', 'doctor', 'config', 'price', 'sessions', 'bookings', 'stations:list', 'stations:nearest', 'stations:load', 'infra:up', 'infra:down', 'infra:status', 'infra:logs']) {
      expect(ids).toContain(id);
    }
  });

  it.each(entries)('%s has a summary and at least one example', (_id, cmd) => {
    expect(cmd.summary?.length ?? 0).toBeGreaterThan(10);
    expect(cmd.examples?.length ?? 0).toBeGreaterThan(0);
  });

  it.each(entries)('%s documents every flag, and config-backed flags name their GREENLANE_ variable', (_id, cmd) => {
    for (const [name, flag] of Object.entries(cmd.flags ?? {})) {
      expect(flag.summary ?? flag.description, `--${name}`).toBeTruthy();
      if (flag.env) expect(flag.env, `--${name}`).toMatch(/^GREENLANE_[A-Z_]+$/);
    }
  });
});
