import * as grpc from '@grpc/grpc-js';
import { ConfigError, EngineUnreachableError, GreenlaneError } from '../errors.js';
import { HerdClockError } from '../sim/herd-scenario.js';

const START_INGESTION = 'Start it with `greenlane up` (embedded) or `greenlane ingestion`, or point --server / GREENLANE_SERVER at it.';

/** What src/sim/simulator.ts throws when its first connection never becomes ready. */
const SIM_CANNOT_REACH = /^cannot reach the ingestion server\b/;
/** What src/sim/herd-scenario.ts throws when the WatchEvents subscription never starts. */
const WATCH_NEVER_STARTED = /^WatchEvents did not start within\b/;
const UNREACHABLE_CODES = new Set<number>([grpc.status.UNAVAILABLE, grpc.status.DEADLINE_EXCEEDED]);

/**
 * Names a herd failure for the user. Only a server that cannot be reached is "engine unreachable";
 * a clock ahead of the run is a configuration problem; anything else is left as it is, so a bug
 * ends the process as a bug rather than hiding behind exit 4.
 */
export function herdError(err: unknown, server: string): unknown {
  if (err instanceof GreenlaneError) return err;
  if (err instanceof HerdClockError) {
    return new ConfigError(`Herd: ${err.message}.`, ['Restart `greenlane up` (embedded), or use a fresh GREENLANE_NAMESPACE on real engines: the coordinator follows event time, which only moves forward.']);
  }
  if (isUnreachable(err)) return new EngineUnreachableError('The ingestion server', server, err, [START_INGESTION]);
  return err;
}

function isUnreachable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as Partial<grpc.ServiceError>).code;
  if (typeof code === 'number' && UNREACHABLE_CODES.has(code)) return true;
  return SIM_CANNOT_REACH.test(err.message) || WATCH_NEVER_STARTED.test(err.message);
}
