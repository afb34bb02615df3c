import type { CarStatusBatchMsg, CarStatusMsg } from '../grpc/proto.js';

/** Default most readings one connection keeps unacknowledged; beyond it new readings are not sent (skipped). */
export const DEFAULT_MAX_UNACKED = 50_000;

/**
 * The client half of acknowledged telemetry for one StreamTelemetryBatch connection: every batch
 * is numbered (CarStatusBatch.seq, increasing for the life of the connection, across reconnects)
 * and kept until the server acknowledges it (BookingResponse.ack_seq, cumulative). After a
 * reconnect every batch still kept is sent again, in order, with its number; the readings keep
 * their ids (car + timestamp), so a batch the server had already published is stored once.
 */
export class UnackedBatches {
  private nextSeq = 1;
  private readonly kept: CarStatusBatchMsg[] = [];
  private readings = 0;
  private ackedReadings = 0;
  private everAcked = false;

  constructor(
    private readonly maxReadings = DEFAULT_MAX_UNACKED,
    private readonly onAcked?: (batches: readonly CarStatusBatchMsg[]) => void,
  ) {}

  /** Readings sent (or to be resent) and not yet acknowledged. */
  get pending(): number {
    return this.readings;
  }

  /** Readings the server acknowledged (Kafka has them). */
  get acked(): number {
    return this.ackedReadings;
  }

  /**
   * Whether there is room to keep `n` more readings. A server that never acknowledged anything
   * predates acknowledgements: then there is always room, and add() forgets the oldest instead.
   */
  hasRoom(n: number): boolean {
    return this.everAcked ? this.readings + n <= this.maxReadings : true;
  }

  /** Numbers a new batch and keeps it until acknowledged. */
  add(cars: CarStatusMsg[]): CarStatusBatchMsg {
    const batch = { seq: this.nextSeq++, cars };
    this.kept.push(batch);
    this.readings += cars.length;
    while (!this.everAcked && this.readings > this.maxReadings && this.kept.length > 1) this.readings -= this.kept.shift()!.cars.length;
    return batch;
  }

  /** The server has every batch up to `seq`: forget them. */
  ack(seq: number): void {
    this.everAcked = true;
    let n = 0;
    while (n < this.kept.length && (this.kept[n].seq ?? 0) <= seq) n++;
    if (!n) return;
    const done = this.kept.splice(0, n);
    const readings = done.reduce((sum, b) => sum + b.cars.length, 0);
    this.readings -= readings;
    this.ackedReadings += readings;
    this.onAcked?.(done);
  }

  /** Every batch still kept, oldest first (to send again on a new stream). */
  unacked(): readonly CarStatusBatchMsg[] {
    return this.kept;
  }
}
