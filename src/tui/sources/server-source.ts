import type { ClientReadableStream } from '@grpc/grpc-js';
import type { FleetEventMsg, WatchRequestMsg } from '../../grpc/proto.js';
import type { FleetEvent } from '../../domain/events.js';
import { parseFleetEvent } from './parse-event.js';
import { createReconnectLoop, type Backoff, type Connection } from './reconnect.js';
import type { EventSource, EventSourceHandlers } from './types.js';

/** The part of FleetClient (src/grpc/client.ts) this source uses. */
export interface WatchClient {
  watchEvents(req?: WatchRequestMsg): ClientReadableStream<FleetEventMsg>;
  waitForReady(timeoutMs?: number): Promise<void>;
  close(): void;
}

export interface ServerSourceOptions {
  address: string;
  /** Opens a client; called per attempt so a token created after start (by `greenlane up`) is picked up. */
  openClient: () => WatchClient;
  request?: WatchRequestMsg;
  readyTimeoutMs?: number;
  /** Events handed to the store per batch: grpc-js delivers one message per 'data'. */
  batchSize?: number;
  backoff?: Backoff;
}

/** gRPC UNAUTHENTICATED (16) or PERMISSION_DENIED (7): a wrong or refused token, which reconnecting cannot fix. */
export function isAuthFailure(err: Error): boolean {
  const code = (err as Error & { code?: number }).code;
  return code === 16 || code === 7;
}

/** Tails the embedded server's WatchEvents stream, reconnecting with backoff when it drops. */
export function createServerSource(opts: ServerSourceOptions): EventSource {
  const batchSize = opts.batchSize ?? 256;
  let loop: ReturnType<typeof createReconnectLoop> | undefined;

  async function connect(h: EventSourceHandlers): Promise<Connection> {
    const client = opts.openClient();
    try {
      await client.waitForReady(opts.readyTimeoutMs ?? 3_000);
    } catch (err) {
      client.close();
      throw new Error(`server ${opts.address} not reachable (${(err as Error).message})`);
    }
    const stream = client.watchEvents(opts.request ?? {});
    return pump(stream, client, h);
  }

  function pump(stream: ClientReadableStream<FleetEventMsg>, client: WatchClient, h: EventSourceHandlers): Connection {
    let settle!: (e: Error | undefined) => void;
    const closed = new Promise<Error | undefined>((r) => (settle = r));
    let batch: FleetEvent[] = [];
    let bad = 0;
    let scheduled = false;
    let closedByUs = false;
    // Coalesce the messages of one socket read into one store update.
    const deliver = () => {
      scheduled = false;
      const events = batch;
      batch = [];
      if (bad) h.onInvalid?.(bad);
      bad = 0;
      if (!events.length) return;
      const pending = h.onEvents(events);
      if (pending) {
        stream.pause();
        pending.finally(() => stream.resume());
      }
    };
    stream.on('data', (msg: FleetEventMsg) => {
      const e = parseFleetEvent(msg.json);
      if (e) batch.push(e);
      else bad++;
      if (batch.length >= batchSize) deliver();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(deliver);
      }
    });
    stream.on('error', (err: Error & { details?: string; code?: number }) => {
      if (!closedByUs) settle(Object.assign(new Error(err.details || err.message), { code: err.code }));
    });
    stream.on('end', () => settle(closedByUs ? undefined : new Error('server ended the stream')));
    return {
      closed,
      async close() {
        closedByUs = true;
        deliver();
        stream.cancel();
        client.close();
        settle(undefined);
      },
    };
  }

  return {
    kind: 'server',
    label: `server ${opts.address} WatchEvents`,
    async start(h) {
      loop = createReconnectLoop({ connect: () => connect(h), onStatus: h.onStatus, backoff: opts.backoff, isFatal: isAuthFailure });
      loop.start();
    },
    async stop() {
      await loop?.stop();
    },
  };
}
