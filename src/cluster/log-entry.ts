/**
 * What one log entry and one snapshot look like in Redis, and the parsing
 * that turns a stream entry's fields into a typed entry or says why not.
 * An entry's sequence number is its stream id (`<seq>-0`), so a range of
 * sequence numbers is one XRANGE and an entry without readable fields
 * still has a position.
 */

/** The entry and snapshot format this code writes and understands. */
export const LOG_FORMAT = 1;

/** One entry of the log, parsed. */
export interface LogEntry {
  /** Sequence number in its epoch: 1, 2, 3... without gaps. */
  readonly seq: number;
  /** The epoch it was appended in. */
  readonly epoch: string;
  /** The node that appended it. */
  readonly nodeId: string;
  /** The id that de-duplicated its append. */
  readonly writeId: string;
  /** Redis's clock when it was appended, in ms (never decreasing along the log). */
  readonly time: number;
  /**
   * The body's JSON text. It is parsed where the entry is applied
   * (`decodeBody()` in entry-body.ts), so the entries a node passes over (its own,
   * already applied from their append's reply) are never parsed.
   */
  readonly text: string;
}

/** A snapshot as stored: the value as of `seq` in `epoch`. */
export interface Snapshot {
  readonly format: number;
  readonly epoch: string;
  readonly seq: number;
  /** Redis's clock when it was written, in ms. */
  readonly time: number;
  /** The value, parsed from its JSON text. */
  readonly value: unknown;
}

/** The result of parsing one stream entry. */
export type ParsedEntry =
  | { readonly kind: 'entry'; readonly entry: LogEntry }
  | { readonly kind: 'unknown-format'; readonly seq: number; readonly format: number }
  | { readonly kind: 'junk'; readonly seq: number; readonly reason: string };

/**
 * The sequence number in a stream id `<seq>-0`, or null when the id is not
 * one of ours.
 *
 * @example
 * seqOfId('42-0') // 42
 */
export function seqOfId(id: string): number | null {
  const match = /^(\d{1,15})-0$/.exec(id);
  return match ? Number(match[1]) : null;
}

/** The stream id of sequence number `seq`. */
export function idOfSeq(seq: number): string {
  return `${seq}-0`;
}

/**
 * Parses a stream entry's fields (not its body: see {@link LogEntry.text}).
 * An entry of another format is reported, never guessed at (a reader must
 * stop rather than misapply it); an entry whose fields cannot be read is
 * junk (to be skipped and reported), as is, once decoded, a body that is
 * not one of ours.
 *
 * @example
 * parseEntry('1-0', { f: '1', e: 'ab', n: 'n1', w: 'w1', t: '5', b: '{}' })
 */
export function parseEntry(id: string, fields: Record<string, string>, seq = seqOfId(id)): ParsedEntry {
  if (seq === null) return { kind: 'junk', seq: -1, reason: `stream id ${id} is not <seq>-0` };
  const format = Number(fields.f);
  if (!Number.isInteger(format) || format < 1) return { kind: 'junk', seq, reason: 'no format number' };
  if (format !== LOG_FORMAT) return { kind: 'unknown-format', seq, format };
  const { e: epoch, n: nodeId, w: writeId, b: text } = fields;
  const time = Number(fields.t);
  if (!epoch || nodeId === undefined || writeId === undefined || text === undefined || !Number.isFinite(time)) {
    return { kind: 'junk', seq, reason: 'missing fields' };
  }
  return { kind: 'entry', entry: { seq, epoch, nodeId, writeId, time, text } };
}

/**
 * Parses a snapshot hash; null when there is none. A snapshot of another
 * format is returned with `value: undefined` for the caller to refuse.
 *
 * @throws {Error} when the hash is there but unreadable
 */
export function parseSnapshot(fields: Record<string, string>): Snapshot | null {
  if (Object.keys(fields).length === 0) return null;
  const format = Number(fields.f);
  const seq = Number(fields.s);
  const time = Number(fields.t);
  if (!Number.isInteger(format) || !Number.isInteger(seq) || !fields.e) throw new Error('the snapshot in Redis is unreadable');
  if (format !== LOG_FORMAT) return { format, epoch: fields.e, seq, time, value: undefined };
  return { format, epoch: fields.e, seq, time, value: JSON.parse(fields.v ?? 'null') };
}
