import * as grpc from '@grpc/grpc-js';
import type { SimCar } from '../domain/manhattan.js';
import { createFleetClient, type FleetClient } from '../grpc/client.js';
import type { TlsFiles } from '../grpc/tls.js';
import type { BookingResponseMsg, CarStatusMsg } from '../grpc/proto.js';
import type { Logger } from '../observability/logger.js';
import { toCarStatus } from './cars.js';
import { UnackedBatches } from './resend.js';

export interface SimCounters {
  /** CarStatus messages written to streams. */
  sent: number;
  /** BOOKING_FAILED responses (invalid telemetry or a failed booking). */
  rejected: number;
  /** All responses received. */
  responses: number;
  /** Updates not sent because a stream was down or backpressured. */
  skipped: number;
  errors: number;
  reconnects: number;
  /** Batch mode: readings sent again on a new stream because the server had not acknowledged them. */
  resent: number;
}

export interface LinkPoolOptions {
  server: string;
  token: string;
  batch?: boolean;
  protoPath?: string;
  tls?: TlsFiles;
  carsPerConnection?: number;
  batchSize?: number;
  logger: Logger;
  counters: SimCounters;
  onResponse(res: BookingResponseMsg): void;
  /** A stream ended in a way retrying cannot fix (a rejected token, an RPC the server lacks). */
  onFatal(message: string): void;
  /** Batch mode: readings the server acknowledged (Kafka has them). */
  onAcked?(cars: readonly CarStatusMsg[]): void;
}

type Stream = grpc.ClientDuplexStream<unknown, BookingResponseMsg>;

export interface Link {
  client: FleetClient;
  cars: SimCar[];
  stream?: Stream;
  blocked: boolean;
  attempt: number;
  openedAt: number;
  retry?: NodeJS.Timeout;
  /** Batch mode: numbered batches kept until acknowledged, sent again on a new stream. */
  unacked?: UnackedBatches;
}

/**
 * The simulator's streams: one per car over shared connections, or one StreamTelemetryBatch per
 * connection. A stream that goes down reconnects with jittered backoff; a full one is never
 * overfilled (its cars' updates are skipped until it drains).
 */
export class LinkPool {
  readonly clients: FleetClient[];
  readonly links: Link[];
  private running = false;

  constructor(
    fleet: SimCar[],
    private readonly opts: LinkPoolOptions,
  ) {
    const connections = Math.max(1, Math.ceil(fleet.length / (opts.carsPerConnection ?? 100)));
    this.clients = Array.from({ length: connections }, () => createFleetClient(opts.server, opts.token, { separateConnection: true, protoPath: opts.protoPath, tls: opts.tls }));
    this.links = opts.batch
      ? this.clients.map((client, i) => ({ ...newLink(client, fleet.filter((_, j) => j % connections === i)), unacked: new UnackedBatches(undefined, (bs) => this.acked(bs)) }))
      : fleet.map((car, j) => newLink(this.clients[j % connections], [car]));
  }

  /** Batch mode: readings acknowledged so far, and sent but not yet acknowledged. */
  ackCounts(): { acked: number; unacked: number } {
    let acked = 0;
    let unacked = 0;
    for (const l of this.links) {
      acked += l.unacked?.acked ?? 0;
      unacked += l.unacked?.pending ?? 0;
    }
    return { acked, unacked };
  }

  private acked(batches: readonly { cars: CarStatusMsg[] }[]): void {
    for (const b of batches) this.opts.onAcked?.(b.cars);
  }

  get connections(): number {
    return this.clients.length;
  }

  /** Waits for the server; on failure closes every channel and throws. */
  async connect(timeoutMs: number): Promise<void> {
    try {
      await this.clients[0].waitForReady(timeoutMs);
    } catch (err) {
      for (const c of this.clients) c.close();
      throw new Error(`cannot reach the ingestion server at ${this.opts.server}: ${(err as Error).message}`);
    }
  }

  open(): void {
    this.running = true;
    for (const link of this.links) this.openStream(link);
  }

  sendAll(simNow: number): void {
    for (const link of this.links) this.send(link, simNow);
  }

  /** Half-closes every stream, lets the server read what is in flight, then closes the channels. */
  async close(): Promise<void> {
    this.running = false;
    const open = this.links.filter((l) => l.stream);
    for (const l of this.links) if (l.retry) clearTimeout(l.retry);
    await Promise.all(open.map((l) => closeStream(l.stream!, 3_000)));
    for (const c of this.clients) c.close();
  }

  private openStream(link: Link): void {
    const stream = (this.opts.batch ? link.client.streamTelemetryBatch() : link.client.streamTelemetry()) as Stream;
    link.stream = stream;
    link.blocked = false;
    link.openedAt = Date.now();
    stream.on('data', (res: BookingResponseMsg) => (res.ack_seq ? link.unacked?.ack(res.ack_seq) : this.opts.onResponse(res)));
    stream.on('drain', () => (link.blocked = false));
    stream.on('error', (err: grpc.ServiceError) => this.streamDown(link, stream, err));
    stream.on('end', () => this.streamDown(link, stream));
    // What the previous stream sent and the server never acknowledged goes again, in order, with its numbers.
    for (const b of link.unacked?.unacked() ?? []) {
      this.opts.counters.resent += b.cars.length;
      if (!stream.write(b)) link.blocked = true;
    }
  }

  private streamDown(link: Link, stream: Stream, err?: grpc.ServiceError): void {
    if (link.stream !== stream) return;
    link.stream = undefined;
    if (err) this.opts.counters.errors++;
    if (err?.code === grpc.status.UNAUTHENTICATED || err?.code === grpc.status.UNIMPLEMENTED) {
      this.opts.onFatal(`${err.details || err.message} (server ${this.opts.server})`);
      return;
    }
    if (!this.running) return;
    if (Date.now() - link.openedAt > 10_000) link.attempt = 0;
    const delay = Math.min(200 * 2 ** link.attempt, 10_000) * (0.5 + Math.random() / 2);
    link.attempt++;
    this.opts.logger.debug({ err: err?.message, delay }, 'sim: stream down; reconnecting');
    link.retry = setTimeout(() => {
      link.retry = undefined;
      if (!this.running) return;
      this.opts.counters.reconnects++;
      this.openStream(link);
    }, delay);
  }

  private send(link: Link, simNow: number): void {
    const { counters } = this.opts;
    if (!link.stream || link.blocked) {
      counters.skipped += link.cars.length;
      return;
    }
    if (!this.opts.batch) {
      counters.sent++;
      link.blocked = !link.stream.write(toCarStatus(link.cars[0], simNow));
      return;
    }
    const batchSize = this.opts.batchSize ?? 500;
    for (let i = 0; i < link.cars.length; i += batchSize) {
      const cars = link.cars.slice(i, i + batchSize).map((c) => toCarStatus(c, simNow));
      // Too much unacknowledged (the server cannot reach Kafka): hold back rather than keep more.
      if (!link.unacked!.hasRoom(cars.length)) {
        counters.skipped += cars.length;
        continue;
      }
      counters.sent += cars.length;
      if (!link.stream.write(link.unacked!.add(cars))) link.blocked = true;
    }
  }
}

function newLink(client: FleetClient, cars: SimCar[]): Link {
  return { client, cars, blocked: false, attempt: 0, openedAt: 0 };
}

function closeStream(stream: grpc.ClientDuplexStream<unknown, unknown>, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      stream.cancel();
      resolve();
    }, timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      resolve();
    };
    stream.once('status', finish);
    stream.once('error', finish);
    stream.end();
  });
}
