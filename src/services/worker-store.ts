/**
 * How the pricing worker writes a batch when the store may refuse part of it: a transient failure
 * (the database is down, a timeout) fails the whole batch so it is delivered again and nothing
 * acknowledged is lost; a data error (the store refuses a record itself) is bisected down to the
 * records that cause it, which are handed back for the DLQ while every other record is written.
 */

export type StoreErrorClass = 'data' | 'transient';

/**
 * SQLSTATE classes that blame the statement's data: 22 data exception (e.g. 22021 a NUL byte in
 * text, 22008 datetime overflow), 23 integrity constraint violation, 42 syntax error or access rule.
 */
const DATA_CLASSES = new Set(['22', '23', '42']);
/**
 * Class 42 codes that blame the database, not the record: a missing table, column, type or
 * function (an unmigrated or dropped schema) or a missing privilege. Every record would "fail", so
 * bisecting would send the whole stream to the DLQ; they are retried until an operator fixes them.
 */
const SYSTEMIC_42 = new Set(['42501', '42P01', '42703', '42883', '42704']);

const SQLSTATE = /^[0-9A-Z]{5}$/;

/**
 * Data or transient, from the error a Store threw. PostgreSQL and PGlite errors carry a SQLSTATE
 * `code`; a RangeError/TypeError without a code comes from formatting a value (e.g. an invalid Date).
 * Everything else (network codes like ECONNREFUSED, pool timeouts, 08xxx connection, 40xxx
 * serialization, 53xxx resources, 57xxx shutdown, unknown errors) is transient: retrying in place
 * loses nothing, while treating a real outage as data would empty the stream into the DLQ.
 */
export function classifyStoreError(err: unknown): StoreErrorClass {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && SQLSTATE.test(code)) {
    if (SYSTEMIC_42.has(code)) return 'transient';
    return DATA_CLASSES.has(code.slice(0, 2)) ? 'data' : 'transient';
  }
  if (code === undefined && (err instanceof RangeError || err instanceof TypeError)) return 'data';
  return 'transient';
}

/** One line for the DLQ: the store's message, with its SQLSTATE when it has one. */
export function storeErrorDetail(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown } | null;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  return typeof e?.code === 'string' && SQLSTATE.test(e.code) ? `${message} (SQLSTATE ${e.code})` : message;
}

export interface BisectResult<T, R> {
  /** What each successful write returned, in order. */
  written: R[];
  /** The items the store refused on their own, with the error it gave for each. */
  rejected: { item: T; err: unknown }[];
  /** Writes attempted (1 when the batch went through at once). */
  attempts: number;
}

/**
 * Writes `items` with `write`; on a data error splits them in halves and writes each half, down to
 * single items, which are then rejected. Order is kept (the left half goes first). A transient
 * error at any depth is thrown, so the caller redelivers the whole batch: `write` must be idempotent,
 * as halves written before the failure are written again.
 */
export async function writeBisecting<T, R>(items: T[], write: (items: T[]) => Promise<R>, classify: (err: unknown) => StoreErrorClass = classifyStoreError): Promise<BisectResult<T, R>> {
  const out: BisectResult<T, R> = { written: [], rejected: [], attempts: 0 };
  const step = async (part: T[]): Promise<void> => {
    if (part.length === 0) return;
    out.attempts++;
    try {
      out.written.push(await write(part));
      return;
    } catch (err) {
      if (classify(err) !== 'data') throw err;
      if (part.length === 1) {
        out.rejected.push({ item: part[0]!, err });
        return;
      }
    }
    const mid = Math.ceil(part.length / 2);
    await step(part.slice(0, mid));
    await step(part.slice(mid));
  };
  await step(items);
  return out;
}

/**
 * Runs writes to several tables at once and fails like the worst of them: any transient failure
 * wins (the batch must be redelivered), else the first data error (so it is bisected).
 */
export async function allOrWorst<R>(writes: (R | Promise<R>)[], classify: (err: unknown) => StoreErrorClass = classifyStoreError): Promise<R[]> {
  const settled = await Promise.allSettled(writes);
  const errors = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected').map((s) => s.reason as unknown);
  if (errors.length) throw errors.find((e) => classify(e) === 'transient') ?? errors[0];
  return settled.map((s) => (s as PromiseFulfilledResult<R>).value);
}
