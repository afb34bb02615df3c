import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import Doctor, { type DoctorReport } from '../../src/commands/doctor.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const savedEnv = { ...process.env };

/**
 * Runs `greenlane doctor` in-process with only the given GREENLANE_* variables, capturing its
 * output (oclif prints through console.log, which vitest intercepts, so spy on console; the
 * base command writes errors to process.stderr) and the exit code it would end with.
 */
async function runDoctor(argv: string[], env: Record<string, string> = {}) {
  for (const k of Object.keys(process.env)) if (k.startsWith('GREENLANE_')) delete process.env[k];
  Object.assign(process.env, { GREENLANE_DATA_DIR: mkdtempSync(join(tmpdir(), 'gl-doctor-')), GREENLANE_DOCTOR_TIMEOUT: '1500' }, env);
  let stdout = '';
  let stderr = '';
  vi.spyOn(console, 'log').mockImplementation((line: unknown) => void (stdout += `${String(line)}\n`));
  vi.spyOn(console, 'error').mockImplementation((line: unknown) => void (stderr += `${String(line)}\n`));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  let exitCode = 0;
  try {
    await Doctor.run(argv, root);
  } catch (err) {
    exitCode = (err as { oclif?: { exit?: number } }).oclif?.exit ?? 1;
  } finally {
    vi.restoreAllMocks();
  }
  return { exitCode, stdout, stderr };
}

afterEach(() => {
  for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
  Object.assign(process.env, savedEnv);
});

describe('greenlane doctor', () => {
  it('passes in embedded mode with nothing external configured, listing every check', async () => {
    const { exitCode, stdout } = await runDoctor(['--json']);
    expect(exitCode).toBe(0);
    const report = JSON.parse(stdout) as DoctorReport;
    expect(report).toMatchObject({ mode: 'embedded', ok: true });
    expect(report.checks.map((c) => c.name)).toEqual(['node', 'mode', 'kafka', 'redis', 'postgres', 'docker', 'data dir']);
    for (const engine of ['kafka', 'redis', 'postgres']) {
      expect(report.checks.find((c) => c.name === engine)).toMatchObject({ ok: true, status: 'info', detail: expect.stringContaining('not configured') });
    }
  });

  it('exits 4 naming the unreachable engine, and --json still carries every check', async () => {
    const { exitCode, stdout } = await runDoctor(['--json'], { GREENLANE_REDIS_URL: 'redis://127.0.0.1:1' });
    expect(exitCode).toBe(4);
    const out = JSON.parse(stdout) as DoctorReport & { error: { exitCode: number; message: string; suggestions: string[] } };
    expect(out.ok).toBe(false);
    expect(out.mode).toBe('external');
    expect(out.checks.find((c) => c.name === 'redis')).toMatchObject({ ok: false, status: 'fail', detail: expect.stringMatching(/ECONNREFUSED/) });
    expect(out.error.exitCode).toBe(4);
    expect(out.error.message).toMatch(/redis/);
    expect(out.error.suggestions.join('\n')).toMatch(/greenlane infra up/);
  });

  it('prints a table and the next steps when not in --json', async () => {
    const { exitCode, stdout, stderr } = await runDoctor([], { GREENLANE_REDIS_URL: 'redis://127.0.0.1:1' });
    expect(exitCode).toBe(4);
    expect(stdout).toMatch(/redis\s+✗/);
    expect(stdout).toMatch(/node\s+✓/);
    expect(stderr).toMatch(/scripts\/engines\.sh start all/);
  });

  it('fails with exit 3 when the data dir cannot be created', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'gl-doctor-')), 'a-file');
    writeFileSync(file, '');
    const { exitCode, stdout } = await runDoctor(['--json'], { GREENLANE_DATA_DIR: join(file, 'sub') });
    expect(exitCode).toBe(3);
    expect((JSON.parse(stdout) as DoctorReport).checks.find((c) => c.name === 'data dir')).toMatchObject({ ok: false, status: 'fail' });
  });
});
