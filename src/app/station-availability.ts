import type * as grpcTypes from '@grpc/grpc-js';
import { status as grpcStatus } from '@grpc/grpc-js';
import type { LoadedConfig } from '../config/load.js';
import { clientToken, readDevToken } from '../config/token.js';
import { ConfigError, EngineUnreachableError } from '../errors.js';
import { createFleetClient } from '../grpc/client.js';
import type { StationAvailabilityReplyMsg } from '../grpc/proto.js';
import { tlsFromConfig } from '../grpc/tls.js';
import { fromGrpc } from './operator-queries.js';

const START_SERVER = 'Start it with `greenlane up` in another terminal, or point --server / GREENLANE_SERVER at a running one.';

/**
 * `greenlane stations offline|online <id>`: asks the server's coordinator (SetStationAvailability)
 * in both modes, since only it can re-plan bookings and tell the cars. A token that is not an
 * operator's is a configuration error (exit 3), as a refused token is.
 */
export async function setStationAvailability(loaded: LoadedConfig, o: { stationId: string; online: boolean; token?: string }): Promise<StationAvailabilityReplyMsg> {
  const { server, dataDir } = loaded.config;
  if (!o.token && !readDevToken(dataDir)) {
    throw new EngineUnreachableError('The GreenLane server', server, new Error(`no token given and no dev token in ${dataDir}`), [START_SERVER, 'Or pass an operator token with --token (GREENLANE_API_TOKEN).']);
  }
  const client = createFleetClient(server, clientToken(o.token, dataDir), { tls: tlsFromConfig(loaded.config) });
  try {
    await client.waitForReady(2_000).catch((err: unknown) => {
      throw new EngineUnreachableError('The GreenLane server', server, err, [START_SERVER]);
    });
    return await client.setStationAvailability(o.stationId, o.online);
  } catch (err) {
    const e = err as grpcTypes.ServiceError;
    if (e.code === grpcStatus.PERMISSION_DENIED) throw new ConfigError(`The server at ${server} refused: ${e.details}`, ['Taking a station offline needs an operator token: --token or GREENLANE_API_TOKEN with one of the server’s GREENLANE_OPERATOR_TOKENS (the embedded dev token is one).']);
    if (typeof e.code === 'number') throw fromGrpc(e, server);
    throw err;
  } finally {
    client.close();
  }
}

/** What `stations offline|online` prints: the change, then each re-planned car. */
export function describeAvailability(r: StationAvailabilityReplyMsg): string {
  const state = r.online ? `online with ${r.ports} ports` : 'offline (no ports)';
  const head = `${r.station_id} is ${state}${r.changed ? '' : ' (it already was)'}${r.online && r.promoted ? `; ${r.promoted} queued cars got a port` : ''}.`;
  if (r.online) return head;
  if (!r.replanned.length) return `${head} No booking counted on it.`;
  const lines = r.replanned.map((p) => {
    const to = p.status === 'confirmed' ? `held at ${p.station_id}` : p.status === 'queued' ? `queued (#${p.queue_position})` : `${p.status}${p.reason ? ` (${p.reason})` : ''}`;
    return `  ${p.car_id}: was ${p.was} → ${to}`;
  });
  return [`${head} ${r.replanned.length} bookings re-planned, each car told:`, ...lines].join('\n');
}
