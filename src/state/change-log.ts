/**
 * The record of changes a {@link Storage} makes, read by the sync layer to
 * build diffs. Each change keeps its value as JSON text, so a later in-place
 * change of that value cannot alter what an earlier record says, and a
 * patch is built by concatenation alone.
 *
 * The text is made lazily: a record holds its value until the next diff is
 * built, then all new records are encoded in one batch. Encoding is most of
 * the cost of a change (a number takes ~0.2 µs to print, a three-field
 * record ~0.8 µs, and two to three times that when done one at a time
 * between other work, as a stream of `set()` calls does); in a batch it
 * runs warm. What keeps this exact is {@link ChangeLog.beforeChange}: the
 * storage calls it before every in-place change, and a change that could
 * write inside a value still waiting to be encoded (one whose path is
 * longer than the shortest such value's) has them all encoded first.
 *
 * Positions count changes ever recorded (`head`), from the position the
 * storage's log started at. One entry (one commit) may record several
 * changes; only the positions between entries name a value a client can
 * hold ({@link ChangeLog.isBoundary}). Readers hold
 * {@link LogCursor}s; records before the smallest cursor are dropped, and
 * with no cursor open nothing is kept at all. The log is also bounded in
 * count and size: past the bound the oldest records go even if a reader
 * still needs them, and that reader gets `undefined` ("not held: send the
 * whole value") instead of a diff.
 */
import { InvalidArgumentError } from '../errors.js';
import { compactOps, compactPatchText, type ChangeRecord, type CompactedOp } from './compact.js';
import type { JsonValue } from '../json.js';
import type { PathSegment } from './path.js';
import { reportCallbackError } from './report-error.js';

export type { ChangeRecord, CompactedOp } from './compact.js';

/** Most records kept by default (see {@link ChangeLogOptions.maxOps}). */
export const DEFAULT_MAX_LOG_OPS = 100_000;
/** Most UTF-16 units of paths and value texts kept by default (see {@link ChangeLogOptions.maxBytes}). */
export const DEFAULT_MAX_LOG_BYTES = 32 * 1024 * 1024;

/** Bounds of the change record a storage keeps for clients that lag behind (the `log` option of `new Storage()`). */
export interface ChangeLogOptions {
  /**
   * Most records kept; beyond it the oldest are dropped.
   * @default 100000
   */
  maxOps?: number;
  /**
   * About the most UTF-16 units of paths and value texts kept; beyond it the oldest
   * records are dropped. A reader that falls that far behind is cheaper to
   * send the whole value anyway.
   * @default 33554432 (32 Mi)
   */
  maxBytes?: number;
}

/**
 * A reader's place in a {@link ChangeLog}: records from `position` on are
 * kept for it (within the log's bound). Close it when done, or the log
 * keeps growing up to its bound.
 */
export class LogCursor {
  #position: number;
  #closed = false;
  readonly #log: ChangeLog;
  readonly #moved: () => void;

  /** @internal Use {@link ChangeLog.openCursor}. */
  constructor(log: ChangeLog, position: number, moved: () => void) {
    this.#log = log;
    this.#position = position;
    this.#moved = moved;
  }

  /** The position this reader has reached. */
  get position(): number {
    return this.#position;
  }

  /** Whether {@link LogCursor.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Moves the cursor forward (to `head` by default), letting the log drop
   * what no reader needs any more.
   * @throws InvalidArgumentError when `position` is behind the cursor or past the log's head
   */
  advance(position = this.#log.head): void {
    if (this.#closed) return;
    if (!Number.isSafeInteger(position) || position < this.#position || position > this.#log.head) {
      throw new InvalidArgumentError('position', `an integer from ${this.#position} to ${this.#log.head}`, position);
    }
    if (position === this.#position) return;
    this.#position = position;
    this.#moved();
  }

  /** Releases the cursor. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#moved();
  }
}

/**
 * The change record of one storage. See the module comment for the model.
 *
 * @example
 * const log = changeLogOf(storage)   // internal to the state layer
 * const cursor = log.openCursor()
 * storage.set('a', 1)
 * log.diffText(cursor.position) // '[{"op":"add","path":"/a","value":1}]'
 * cursor.advance()
 */
export class ChangeLog {
  readonly #maxOps: number;
  readonly #maxBytes: number;
  #head: number;
  #tail: number;
  // Whether a change was recorded since the last commit: the next record opens an entry when not.
  #inEntry = false;
  // #records[#first] is the record at position #tail; the prefix is garbage waiting to be sliced off.
  #records: (ChangeRecord | undefined)[] = [];
  #first = 0;
  #bytes = 0;
  // Records from this position on may still hold a value instead of its text.
  #encodedTo: number;
  // The shortest path of a recorded object or array not yet encoded (Infinity: none).
  #pendingDepth = Infinity;
  readonly #cursors = new Set<LogCursor>();
  #listeners: readonly (() => void)[] = [];

  /**
   * @param start the position of the storage's initial value (a snapshot's position)
   * @throws InvalidArgumentError for a bound that is not a positive integer
   */
  constructor(options: ChangeLogOptions = {}, start = 0) {
    this.#maxOps = bound(options.maxOps, DEFAULT_MAX_LOG_OPS, 'options.maxOps');
    this.#maxBytes = bound(options.maxBytes, DEFAULT_MAX_LOG_BYTES, 'options.maxBytes');
    this.#head = this.#tail = this.#encodedTo = start;
  }

  /** Position after the latest change: the number of changes ever recorded. */
  get head(): number {
    return this.#head;
  }

  /** The oldest position a diff can start from. */
  get tail(): number {
    return this.#tail;
  }

  /** Records kept. */
  get size(): number {
    return this.#head - this.#tail;
  }

  /** About the UTF-16 units of paths and value texts kept. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Whether any reader is open: only then are records kept. */
  get recording(): boolean {
    return this.#cursors.size > 0;
  }

  /** Whether a diff from `position` to `head` can be built. */
  holds(position: number): boolean {
    return position >= this.#tail && position <= this.#head;
  }

  /**
   * Whether `position` is held and lies between two entries: a position
   * inside an entry (a `set()` that padded an array records several
   * changes in one) names no value anybody had, so it is never a version.
   */
  isBoundary(position: number): boolean {
    if (position === this.#head) return !this.#inEntry;
    if (!Number.isSafeInteger(position) || position < this.#tail || position > this.#head) return false;
    return this.#records[this.#first + (position - this.#tail)]!.opens === true;
  }

  /**
   * Appends one change; the storage calls this while applying it. (Plain
   * arguments rather than one object: this runs on every change.)
   * @param segments steps to the changed location; the log keeps this array
   * @param objectPath whether every container on the way was an object
   * @param kind `set` writes `text` at the location, `remove` deletes it
   * @param existed whether the location held a value just before
   * @param value for `set`: the value now at the location (encoded later; see the module comment)
   */
  record(segments: readonly PathSegment[], objectPath: boolean, kind: 'set' | 'remove', existed: boolean, value: JsonValue | undefined): void {
    this.#head += 1;
    const opens = !this.#inEntry;
    this.#inEntry = true;
    if (this.#cursors.size === 0) {
      this.#tail = this.#head;
      this.#encodedTo = this.#head;
      return;
    }
    const set = kind === 'set';
    const record: ChangeRecord = { segments, objectPath, kind, existed, opens, text: undefined, value: set ? value : undefined };
    if (set && typeof value === 'object' && value !== null && segments.length < this.#pendingDepth) this.#pendingDepth = segments.length;
    this.#records.push(record);
    this.#bytes += weight(record);
    this.#enforceBound();
  }

  /**
   * Called by the storage before it changes anything in place at a path of
   * `pathLength` steps: encodes the waiting values first if the change could
   * be inside one of them.
   */
  beforeChange(pathLength: number): void {
    if (pathLength > this.#pendingDepth) this.#encodePending();
  }

  #encodePending(): void {
    this.#pendingDepth = Infinity;
    if (this.#encodedTo < this.#tail) this.#encodedTo = this.#tail;
    if (this.#encodedTo === this.#head) return;
    for (let i = this.#first + (this.#encodedTo - this.#tail); i < this.#records.length; i++) {
      const record = this.#records[i]!;
      if (record.kind !== 'set' || record.text !== undefined) continue;
      const text = JSON.stringify(record.value!);
      record.text = text;
      record.value = undefined;
      this.#bytes += text.length;
    }
    this.#encodedTo = this.#head;
    this.#enforceBound();
  }

  #enforceBound(): void {
    while (this.#head - this.#tail > this.#maxOps || (this.#bytes > this.#maxBytes && this.#head > this.#tail)) this.#dropOldest();
  }

  /** Closes the entry being recorded and tells the commit listeners that it is complete. */
  commit(): void {
    this.#inEntry = false;
    for (const listener of this.#listeners) {
      try {
        listener();
      } catch (err) {
        reportCallbackError('a change-log listener', err);
      }
    }
  }

  /**
   * Runs `listener` after every completed entry (before the storage's
   * `onChange` callbacks). A listener that throws is reported, not rethrown.
   * @returns a function that unregisters the listener
   */
  onCommit(listener: () => void): () => void {
    this.#listeners = [...this.#listeners, listener];
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== listener);
    };
  }

  /**
   * Opens a reader at `position` (the head by default). A position the log
   * no longer holds is allowed; diffs from it are `undefined`.
   * @throws InvalidArgumentError when `position` is past the head
   */
  openCursor(position = this.#head): LogCursor {
    if (!Number.isSafeInteger(position) || position < 0 || position > this.#head) {
      throw new InvalidArgumentError('position', `an integer from 0 to ${this.#head}`, position);
    }
    const cursor = new LogCursor(this, position, () => this.#cursorMoved(cursor));
    this.#cursors.add(cursor);
    return cursor;
  }

  /**
   * The JSON text of the compacted patch that takes the value at position
   * `from` to the value at `to` (the head by default), using only `add`,
   * `remove` and `replace`; `'[]'` when nothing changed; `undefined` when
   * the log no longer holds `from` (send the whole value instead).
   * @throws InvalidArgumentError when `to` is past the head or `from` past `to`
   */
  diffText(from: number, to: number = this.#head): string | undefined {
    if (!Number.isSafeInteger(to) || to > this.#head || to < 0) throw new InvalidArgumentError('to', `an integer from 0 to ${this.#head}`, to);
    if (!Number.isSafeInteger(from) || from > to) throw new InvalidArgumentError('from', `an integer up to ${to}`, from);
    // Encoding counts toward the bound, and may drop what `from` needs.
    if (from < to) this.#encodePending();
    if (from < this.#tail) return undefined;
    if (from === to) return '[]';
    const start = this.#first + (from - this.#tail);
    return compactPatchText(this.#records as readonly ChangeRecord[], start, start + (to - from));
  }

  /**
   * The operations of {@link ChangeLog.diffText}'s patch one by one (what
   * views route); `undefined` when the log no longer holds `from`.
   * @throws InvalidArgumentError when `to` is past the head or `from` past `to`
   */
  diffOps(from: number, to: number = this.#head): CompactedOp[] | undefined {
    if (!Number.isSafeInteger(to) || to > this.#head || to < 0) throw new InvalidArgumentError('to', `an integer from 0 to ${this.#head}`, to);
    if (!Number.isSafeInteger(from) || from > to) throw new InvalidArgumentError('from', `an integer up to ${to}`, from);
    if (from < to) this.#encodePending();
    if (from < this.#tail) return undefined;
    const start = this.#first + (from - this.#tail);
    return compactOps(this.#records as readonly ChangeRecord[], start, start + (to - from));
  }

  #cursorMoved(cursor: LogCursor): void {
    if (cursor.closed) this.#cursors.delete(cursor);
    let min = this.#head;
    for (const c of this.#cursors) if (c.position < min) min = c.position;
    while (this.#tail < min) this.#dropOldest();
  }

  #dropOldest(): void {
    const record = this.#records[this.#first];
    if (record !== undefined) this.#bytes -= weight(record);
    this.#records[this.#first] = undefined;
    this.#first += 1;
    this.#tail += 1;
    if (this.#first === this.#records.length) {
      this.#records = [];
      this.#first = 0;
    } else if (this.#first >= 1024 && this.#first * 2 >= this.#records.length) {
      // Slice off the dropped prefix now and then: amortized O(1) per record.
      this.#records = this.#records.slice(this.#first);
      this.#first = 0;
    }
  }
}

/** About the UTF-16 units the record holds: its steps (a pointer is built only when a diff is) and its value text once made. */
function weight(record: ChangeRecord): number {
  let units = record.text?.length ?? 0;
  for (const segment of record.segments) units += typeof segment === 'string' ? segment.length + 1 : 8;
  return units;
}

function bound(value: number | undefined, fallback: number, argument: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new InvalidArgumentError(argument, 'a positive integer', value);
  return value;
}
