import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { herdError } from '../../src/app/herd-errors.js';
import { ExitCode, exitCodeFor, exitCodeForSignal } from '../../src/cli/exit-codes.js';
import { ConfigError, EngineUnreachableError, ExternalToolError, GreenlaneError, PortInUseError, UsageError } from '../../src/errors.js';
import { HerdClockError } from '../../src/sim/herd-scenario.js';

describe('exit codes', () => {
  it('maps each error kind to its exit code', () => {
    expect(exitCodeFor(new EngineUnreachableError('Redis', '127.0.0.1:1'))).toBe(4);
    expect(exitCodeFor(new UsageError('bad flag'))).toBe(2);
    expect(exitCodeFor(new PortInUseError('grid', 8081, '--grid-port'))).toBe(2);
    expect(exitCodeFor(new ConfigError('no token'))).toBe(3);
    expect(exitCodeFor(new ExternalToolError('docker failed'))).toBe(5);
    expect(exitCodeFor(new GreenlaneError('smoke failed', 'failed'))).toBe(1);
  });

  it('maps an unknown error to 1 and keeps the exit an oclif error carries', () => {
    expect(exitCodeFor(new Error('boom'))).toBe(1);
    expect(exitCodeFor(new TypeError('x is undefined'))).toBe(1);
    expect(exitCodeFor('a string')).toBe(1);
    expect(exitCodeFor(Object.assign(new Error('parse'), { oclif: { exit: 2 } }))).toBe(2);
  });

  it('names the signal exits', () => {
    expect(exitCodeForSignal('SIGINT')).toBe(ExitCode.sigint);
    expect(exitCodeForSignal('SIGTERM')).toBe(ExitCode.sigterm);
    expect([ExitCode.sigint, ExitCode.sigterm]).toEqual([130, 143]);
  });

  it('maps an unreachable engine to 4 by its kind', () => {
    const e = new EngineUnreachableError('Kafka', '127.0.0.1:1');
    expect(e.kind).toBe('engine-unreachable');
    expect(exitCodeFor(e)).toBe(4);
  });
});

describe('herd errors', () => {
  const server = '127.0.0.1:50051';

  it('turns only an unreachable server into exit 4', () => {
    expect(exitCodeFor(herdError(new Error(`cannot reach the ingestion server at ${server}: Failed to connect before the deadline`), server))).toBe(4);
    expect(exitCodeFor(herdError(Object.assign(new Error('14 UNAVAILABLE: No connection established'), { code: grpc.status.UNAVAILABLE }), server))).toBe(4);
    expect(exitCodeFor(herdError(new Error('WatchEvents did not start within 10 s'), server))).toBe(4);
  });

  it('leaves a bug a bug (exit 1), not an engine outage', () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'ports')");
    expect(herdError(bug, server)).toBe(bug);
    expect(exitCodeFor(herdError(bug, server))).toBe(1);
    expect(exitCodeFor(herdError(Object.assign(new Error('13 INTERNAL'), { code: grpc.status.INTERNAL }), server))).toBe(1);
  });

  it('reports a clock ahead of the run as configuration (exit 3) and passes GreenLane errors through', () => {
    expect(exitCodeFor(herdError(new HerdClockError('clock ahead'), server))).toBe(3);
    const usage = new UsageError('--battery');
    expect(herdError(usage, server)).toBe(usage);
  });
});
