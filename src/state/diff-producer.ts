/**
 * What produces diffs of one {@link Storage}: the flushed position (what
 * every up-to-date subscriber has), the compacted diff of each flush,
 * catch-up and resume diffs, versions (named by the storage's log), and the
 * whole value's JSON text cached per position. It knows nothing of
 * subscribers, frames or timers: {@link FanOut} sends what it produces.
 */
import type { ChangeLog, CompactedOp, LogCursor } from './change-log.js';
import { ResumeWindow } from './resume-window.js';
import { WholeValueCache } from './state-message.js';
import type { VersionScheme } from './state-log.js';
import { changeLogOf, stateLogOf, type Storage } from './storage.js';

/** Counters for tests and benchmarks: work done, not messages sent. */
export interface StateChannelStats {
  /** Flushes that found changes. */
  flushes: number;
  /** Diffs built from the change log (one per flush, plus one per catch-up or resume). */
  diffsComputed: number;
  /** Messages turned into frames. */
  messagesEncoded: number;
  /** Serializations of the whole value (at most one per version). */
  wholeValueEncodings: number;
  /** UTF-16 units of the last serialization of the whole value (0 before the first): the state's size as last seen. */
  wholeValueLength: number;
}

/**
 * The diff side of a storage's sync.
 *
 * @example
 * const diffs = new DiffProducer(storage, 64, stats)
 * storage.set('a', 1)
 * const from = diffs.flushed
 * diffs.advance().text()   // '[{"op":"add","path":"/a","value":1}]', and flushed is now the head
 */
export class DiffProducer {
  /** The storage whose changes this produces. */
  readonly storage: Storage;
  readonly #changes: ChangeLog;
  readonly #versions: VersionScheme;
  readonly #stats: StateChannelStats;
  // At the last flushed position.
  readonly #cursor: LogCursor;
  readonly #window: ResumeWindow;
  readonly #whole: WholeValueCache<unknown>;

  /**
   * @param historySize how many sent versions the resume window spans
   * @param stats the counters this adds its diffs and whole-value serializations to
   */
  constructor(storage: Storage, historySize: number, stats: StateChannelStats) {
    this.storage = storage;
    this.#changes = changeLogOf(storage);
    const log = stateLogOf(storage);
    this.#versions = log.versions;
    this.#stats = stats;
    this.#cursor = this.#changes.openCursor();
    this.#window = new ResumeWindow(this.#changes, historySize, log.resumeFromAnyBoundary === true);
    this.#whole = new WholeValueCache(
      () => storage.data,
      () => this.#changes.head,
      (length) => {
        stats.wholeValueEncodings += 1;
        stats.wholeValueLength = length;
      },
    );
  }

  /** The position every up-to-date subscriber has. */
  get flushed(): number {
    return this.#cursor.position;
  }

  /** The position after the last applied entry. */
  get head(): number {
    return this.#changes.head;
  }

  /** The version naming `position` (the last flush by default). */
  version(position: number = this.#cursor.position): string {
    return this.#versions.format(position);
  }

  /**
   * Runs `listener` after every committed entry; the whole-value cache is
   * dropped first. @returns a function that unregisters it
   */
  onCommit(listener: () => void): () => void {
    return this.#changes.onCommit(() => {
      this.#whole.clear();
      listener();
    });
  }

  /**
   * Moves the flushed position to the head and returns the diff from where
   * it was, built only when asked for (as text, or as operations for
   * views); the caller keeps the record held from `from` while it reads it.
   */
  advance(): FlushDiff {
    const from = this.#cursor.position;
    const to = this.#changes.head;
    this.#cursor.advance(to);
    return new FlushDiff(this.#changes, from, to, this.#stats);
  }

  /** Moves the flushed position to the head without a diff (nobody to send one to). */
  skip(): void {
    this.#cursor.advance();
  }

  /** Keeps the record from `position` on until the cursor is closed (a subscriber held back there). */
  hold(position: number): LogCursor {
    return this.#changes.openCursor(position);
  }

  /** Whether a diff from `position` can still be built. */
  holds(position: number): boolean {
    return this.#changes.holds(position);
  }

  /** The diff from `position` to the last flush (counted); `undefined` when not held. */
  diffFrom(position: number): string | undefined {
    this.#stats.diffsComputed += 1;
    return this.#changes.diffText(position, this.#cursor.position);
  }

  /**
   * The patch text from `version` to the last flush: `'[]'` for the
   * current version; a diff when `version` is an entry boundary within the
   * resume window; else `undefined` (send the whole value).
   */
  resumeDiff(version: string): string | undefined {
    const position = this.resumePosition(version);
    if (position === this.#cursor.position) return '[]';
    return position === undefined ? undefined : this.diffFrom(position);
  }

  /** The compacted operations from `position` to the last flush (counted); `undefined` when not held. */
  opsFrom(position: number): CompactedOp[] | undefined {
    this.#stats.diffsComputed += 1;
    return this.#changes.diffOps(position, this.#cursor.position);
  }

  /**
   * The position `version` names when a diff from it may be sent (see
   * {@link DiffProducer.resumeDiff}), else `undefined`.
   */
  resumePosition(version: string): number | undefined {
    const position = this.#versions.parse(version);
    const to = this.#cursor.position;
    if (position === to) return position;
    if (position === undefined || !this.#window.accepts(position, to)) return undefined;
    return position;
  }

  /** Tells the resume window that the version of `position` went out. */
  sent(position: number): void {
    this.#window.sent(position);
  }

  /** The whole value's JSON text at the head, serialized once per position. */
  wholeText(): string {
    return this.#whole.text();
  }

  /** The whole value as a `state` message (at the head), encoded once per version by `encode`. */
  wholeFrames<F>(version: string | null, encode: (text: string) => F): F {
    return (this.#whole as WholeValueCache<F>).frames(version, encode);
  }

  /** Releases the change record. Safe to call twice. */
  close(): void {
    this.#window.close();
    this.#cursor.close();
    this.#whole.clear();
  }
}

/**
 * The changes of one flush, from `from` to `to`: as patch text for
 * connections that see everything, as operations for the views, each
 * built once and only if asked for.
 */
export class FlushDiff {
  readonly from: number;
  readonly to: number;
  readonly #changes: ChangeLog;
  readonly #stats: StateChannelStats;
  #text: string | undefined | null = null;
  #ops: CompactedOp[] | undefined | null = null;

  /** @internal made by {@link DiffProducer.advance} */
  constructor(changes: ChangeLog, from: number, to: number, stats: StateChannelStats) {
    this.#changes = changes;
    this.from = from;
    this.to = to;
    this.#stats = stats;
  }

  /** The patch text: `'[]'` for none, `undefined` when the record no longer holds `from` (send the whole value). */
  text(): string | undefined {
    if (this.#text === null) {
      this.#stats.diffsComputed += 1;
      const ops = this.#ops;
      // When the views asked first, the patch is their operations' texts joined: no second compaction.
      if (ops === null) this.#text = this.#changes.diffText(this.from, this.to);
      else this.#text = ops === undefined ? undefined : '[' + ops.map((op) => op.text).join(',') + ']';
    }
    return this.#text;
  }

  /** The patch's operations one by one; `undefined` when the record no longer holds `from`. */
  ops(): readonly CompactedOp[] | undefined {
    if (this.#ops === null) this.#ops = this.#changes.diffOps(this.from, this.to);
    return this.#ops;
  }
}
