/**
 * Acknowledgements of client batches (StreamTelemetryBatch with CarStatusBatch.seq). A batch is
 * acknowledged once every event of it that was accepted is on the bus — and every earlier batch of
 * the same stream too, so an acknowledgement is cumulative: the client may forget every batch up
 * to the acknowledged seq. Events are written in arrival order, one batch write at a time, so acks
 * go out in seq order anyway; the queue only makes that explicit and covers batches with no
 * accepted event (all rejected, or empty).
 */

/** One client batch waiting for its accepted events to be on the bus. */
export class AckTicket {
  /** Accepted events of this batch not yet on the bus. */
  pending = 0;
  /** Every event of the batch has been received (no more will be added). */
  sealed = false;

  constructor(
    readonly seq: number,
    readonly queue: AckQueue,
  ) {}
}

/** The batches of one stream waiting for acknowledgement, oldest first. */
export class AckQueue {
  private readonly tickets: AckTicket[] = [];

  /** `send(seq)`: acknowledge every batch up to seq on the stream. */
  constructor(private readonly send: (seq: number) => void) {}

  /** Batches received but not yet acknowledged. */
  get size(): number {
    return this.tickets.length;
  }

  open(seq: number): AckTicket {
    const ticket = new AckTicket(seq, this);
    this.tickets.push(ticket);
    return ticket;
  }

  /** The batch is fully received; acknowledges it at once if none of its events is still pending. */
  seal(ticket: AckTicket): void {
    ticket.sealed = true;
    this.release();
  }

  /** `n` accepted events of the batch are on the bus. */
  settle(ticket: AckTicket, n: number): void {
    ticket.pending -= n;
    this.release();
  }

  private release(): void {
    let last: AckTicket | undefined;
    while (this.tickets.length && this.tickets[0].sealed && this.tickets[0].pending <= 0) last = this.tickets.shift();
    if (last) this.send(last.seq);
  }
}
