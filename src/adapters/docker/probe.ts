import { execa } from 'execa';

export interface DockerProbe {
  ok: boolean;
  detail: string;
}

/** Only `greenlane infra up` needs Docker, so its absence is reported, never failed. */
export async function probeDocker(timeoutMs: number): Promise<DockerProbe> {
  try {
    const { stdout } = await execa('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: timeoutMs, stdin: 'ignore' });
    return { ok: true, detail: `available (server ${stdout.trim()})` };
  } catch (err) {
    const e = err as { code?: string; timedOut?: boolean };
    if (e.code === 'ENOENT') return { ok: false, detail: 'missing (optional: only `greenlane infra up` needs it)' };
    return { ok: false, detail: `client only: daemon ${e.timedOut ? 'did not answer in time' : 'unreachable'} (optional: only \`greenlane infra up\` needs it)` };
  }
}
