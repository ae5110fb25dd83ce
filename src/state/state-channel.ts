/**
 * One storage's sync to many subscribers (`docs/protocol.md`, "State and
 * joining"): a thin composition of the three pieces that do the work.
 * {@link DiffProducer} computes each flush's compacted diff once (and
 * resume diffs, versions, the whole value once per version);
 * {@link FanOut} hands it to every subscriber as frames built once per
 * kind of message, holding congested ones back; {@link FlushTimer}
 * decides when a flush happens. Encoding is the caller's: the channel
 * never sees a wire format.
 */
import { DiffProducer, type StateChannelStats } from './diff-producer.js';
import { FanOut, type StateSubscriber } from './fan-out.js';
import { FlushTimer } from './flush-timer.js';
import { resolveStateChannelOptions, type StateChannelOptions } from './state-channel-options.js';
import type { Storage } from './storage.js';
import { canonicalView, type ViewPath, type ViewPaths } from './view-paths.js';

export type { StateChannelStats } from './diff-producer.js';
export type { MessageEncoder, StateSubscriber } from './fan-out.js';
export { DEFAULT_HISTORY_SIZE, type StateChannelOptions } from './state-channel-options.js';

/**
 * One storage's sync to its subscribers. The server makes one per shared
 * state and one per connection-own state.
 *
 * All methods are synchronous: when `flush()`, `join()` or `drained()`
 * returns, the messages have been handed to the subscribers.
 *
 * @typeParam F the frames type of the injected encoding
 * @example
 * const channel = new StateChannel(storage, { autoflushDelay: 200, encode: (text, shared) => [text] })
 * channel.join(connection)        // sends the whole value (unless it is null)
 * storage.set('speed', 12)        // sent within 200 ms, to everyone at once
 * channel.flush()                 // or now
 * channel.close()
 */
export class StateChannel<F = unknown> {
  /** The storage this channel syncs. */
  readonly storage: Storage;
  /** Work counters (see {@link StateChannelStats}). */
  readonly stats: StateChannelStats = { flushes: 0, diffsComputed: 0, messagesEncoded: 0, wholeValueEncodings: 0, wholeValueLength: 0 };
  readonly #diffs: DiffProducer;
  readonly #fanOut: FanOut<F>;
  readonly #timer: FlushTimer;
  readonly #stopListening: () => void;
  readonly #onFlushed: ((milliseconds: number, diffLength: number) => void) | null;
  #closed = false;

  /** @throws InvalidArgumentError naming the bad option */
  constructor(storage: Storage, options: StateChannelOptions<F>) {
    const { autoflushDelay, encode, historySize, onError, onFlushed } = resolveStateChannelOptions(options);
    this.storage = storage;
    this.#onFlushed = onFlushed;
    this.#diffs = new DiffProducer(storage, historySize, this.stats);
    this.#fanOut = new FanOut(this.#diffs, encode, this.stats, onError, () => this.flush());
    this.#timer = new FlushTimer(autoflushDelay, () => this.flush());
    this.#stopListening = this.#diffs.onCommit(this.#changed);
  }

  /** The version of the value as of the last flush, as the storage's log names it. */
  get version(): string {
    return this.#diffs.version();
  }

  /** Whether changes are waiting for a flush. */
  get pending(): boolean {
    return !this.#closed && this.#diffs.head !== this.#diffs.flushed;
  }

  /** Subscribers joined and not left. */
  get subscriberCount(): number {
    return this.#fanOut.size;
  }

  /**
   * Adds a subscriber. Unflushed changes are first flushed to the others, so
   * the newcomer's first message continues exactly from what it gets here:
   * - plain: the whole value as one `replace` at `""`, or nothing while it is `null`;
   * - extension: nothing if `version` is the current one; else a diff from
   *   `version` if it is an entry boundary still in the resume window (or
   *   the whole value if that is smaller); else the whole value, even
   *   `null`. Each carries the current version.
   *
   * With a view, each of these is the view's (docs/views.md): the
   * restricted value, or a diff within the view (nothing when empty).
   *
   * Joining twice, or after {@link StateChannel.close}, does nothing.
   * @param version what the client says it last applied (`hello.version`)
   * @param view the paths it sees (canonicalized), null for everything
   * @throws InvalidArgumentError for a bad view (an array index on a path) before anything changes
   */
  join(subscriber: StateSubscriber<F>, version: string | null = null, view: ViewPaths | null = null): void {
    if (this.#closed || this.#fanOut.has(subscriber)) return;
    const paths = view === null ? null : canonicalView(view, 'view');
    if (this.pending) this.flush();
    this.#fanOut.join(subscriber, version, paths);
  }

  /**
   * Changes what a subscriber sees, at a flush boundary: pending diffs go
   * out first (its own held-back diff too), then one diff from its old view
   * to the new one (nothing when they show the same). Does nothing for a
   * subscriber that has not joined.
   * @param view the paths it sees from now on (canonicalized), null for everything
   * @throws InvalidArgumentError naming the bad path step (an array index) before anything changes
   */
  setView(subscriber: StateSubscriber<F>, view: ViewPaths | null): void {
    const paths = view === null ? null : canonicalView(view, 'paths');
    if (this.#closed || !this.#fanOut.has(subscriber)) return;
    this.flush(subscriber);
    this.#fanOut.setView(subscriber, paths);
  }

  /** The canonical paths `subscriber` sees, null for everything (or when it is no member). */
  viewOf(subscriber: StateSubscriber<F>): readonly ViewPath[] | null {
    return this.#fanOut.viewOf(subscriber) ?? null;
  }

  /** Removes a subscriber (and releases what the log kept for it). Safe to call twice. */
  leave(subscriber: StateSubscriber<F>): void {
    this.#fanOut.leave(subscriber);
  }

  /**
   * Sends the changes since the last flush, as one compacted diff computed
   * and encoded once, to every subscriber that is not congested; congested
   * ones are held back. An empty diff sends nothing. Held-back subscribers
   * that have room again get their own catch-up diff.
   *
   * @param forSubscriber a subscriber whose held-back diff must go out now,
   *   congested or not (what `conn.flush()` needs to keep message order)
   */
  flush(forSubscriber?: StateSubscriber<F>): void {
    if (this.#closed) return;
    this.#timer.cancel();
    const diffs = this.#diffs;
    const from = diffs.flushed;
    if (from !== diffs.head) {
      this.stats.flushes += 1;
      if (this.#fanOut.size === 0) diffs.skip();
      else {
        // Keeps the record from `from` while the fan-out holds back congested subscribers there.
        const hold = diffs.hold(from);
        const onFlushed = this.#onFlushed;
        const started = onFlushed === null ? 0 : performance.now();
        try {
          // Advanced before sending: a subscriber that joins from inside a send must find nothing pending.
          const diff = diffs.advance();
          this.#fanOut.send(diff);
          if (onFlushed !== null) {
            // Metrics only: the text is built once and cached, as the plain frames need it anyway.
            const text = diff.text();
            if (text !== undefined) onFlushed(performance.now() - started, text.length);
          }
        } finally {
          hold.close();
        }
      }
    } else {
      this.#fanOut.catchUpAll();
    }
    if (forSubscriber !== undefined) this.#fanOut.catchUp(forSubscriber);
  }

  /**
   * Tells the channel that a held-back subscriber has room again: it gets
   * one diff from what it last got to the last flush (the whole value if the
   * log no longer holds its position). Call it before waking other writers
   * of that connection, so the diff goes out ahead of later messages.
   */
  drained(subscriber: StateSubscriber<F>): void {
    this.#fanOut.catchUp(subscriber);
  }

  /**
   * The patch text (a JSON array) from `version` to the last flush: `'[]'`
   * for the current version; a diff when `version` names an entry boundary
   * still in the resume window; else `undefined` (send the whole value).
   */
  diffFromVersion(version: string): string | undefined {
    return this.#diffs.resumeDiff(version);
  }

  /** Stops the timer, drops all subscribers and releases the log. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#timer.cancel();
    this.#stopListening();
    this.#fanOut.close();
    this.#diffs.close();
  }

  readonly #changed = (): void => {
    if (this.#closed) return;
    // Nobody to send to: move on at once, so the log keeps nothing for nobody.
    if (this.#fanOut.size === 0) this.#diffs.skip();
    else this.#timer.changed();
  };
}
