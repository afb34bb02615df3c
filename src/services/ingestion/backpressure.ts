import type { Principal } from '../../domain/principals.js';

/**
 * What flow control needs of a bidirectional stream of responses R: pausing its reads and
 * learning when its writes are drained. A grpc-js ServerDuplexStream satisfies it, as does any
 * Node Duplex.
 */
export interface FlowStream<R> {
  pause(): unknown;
  resume(): unknown;
  write(msg: R): boolean;
  once(event: 'drain', listener: () => void): unknown;
  end(): unknown;
  readonly writable: boolean;
}

/** One open stream: the cars that last sent telemetry on it and whether its responses are backed up. */
export class StreamSlot<R> {
  readonly cars = new Set<string>();
  writeBlocked = false;
  done = false;

  /** `principal`: who authenticated the stream (undefined: trusted, e.g. in-process tests). */
  constructor(
    readonly stream: FlowStream<R>,
    readonly principal?: Principal,
  ) {}
}

/**
 * Backpressure over the open streams: a stream's reads are paused while the shared batch queue
 * is full or while its own responses are not drained, and resumed when neither holds.
 */
export class Backpressure<R> {
  private readonly slots = new Set<StreamSlot<R>>();
  private queueFull = false;

  get size(): number {
    return this.slots.size;
  }

  add(slot: StreamSlot<R>): void {
    this.slots.add(slot);
    this.apply(slot);
  }

  delete(slot: StreamSlot<R>): void {
    this.slots.delete(slot);
  }

  /** The batch queue filled up (pause every stream) or drained (resume those not write-blocked). */
  setQueueFull(full: boolean): void {
    this.queueFull = full;
    for (const slot of this.slots) this.apply(slot);
  }

  apply(slot: StreamSlot<R>): void {
    if (this.queueFull || slot.writeBlocked) slot.stream.pause();
    else slot.stream.resume();
  }

  /** Writes a response; a full write buffer pauses the stream's reads until it drains. False when the stream is closed. */
  respond(slot: StreamSlot<R>, msg: R): boolean {
    if (slot.done || !slot.stream.writable) return false;
    if (!slot.stream.write(msg) && !slot.writeBlocked) {
      slot.writeBlocked = true;
      this.apply(slot);
      slot.stream.once('drain', () => {
        slot.writeBlocked = false;
        this.apply(slot);
      });
    }
    return true;
  }

  /** Ends every stream (resumed first, so what the client already sent is still read). */
  endAll(): void {
    for (const slot of this.slots) {
      slot.stream.resume();
      if (slot.stream.writable) slot.stream.end();
    }
  }
}
