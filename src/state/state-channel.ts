/**
 * Flush scheduling and fan-out of one {@link Storage} to many subscribers
 * (PROTOCOL.md "State" and "Joining", API.md "State sync"). Each flush
 * computes the compacted diff once, builds each kind of message once (plain,
 * and with a `version` for koa-juggler.v1 connections) and encodes it once;
 * every subscriber gets the same frames. A congested subscriber is held
 * back and later gets one diff computed just for it. The whole value, for
 * joining clients, is serialized once per version whatever their number.
 */
import { encodeMessage, type EncodedMessage } from '../transport/transport.js';
import type { ChangeLog, LogCursor } from './change-log.js';
import { resolveStateChannelOptions, type StateChannelOptions } from './state-channel-options.js';
import { framesToBytes, stateMessageText, WholeValueCache } from './state-message.js';
import type { Storage } from './storage.js';
import { formatVersion, parseVersion, VersionHistory } from './version-history.js';

/** What the channel needs of a connection. The server's connection implements it. */
export interface StateSubscriber {
  /** A koa-juggler.v1 connection: its state messages carry `version`. */
  readonly extension: boolean;
  /** Its send queue is full: hold its diffs back until {@link StateChannel.drained}. */
  readonly congested: boolean;
  /** Sends one pre-encoded message; the same frames go to many subscribers, so they must not be changed. */
  sendEncoded(frames: EncodedMessage): void;
}

export { DEFAULT_HISTORY_SIZE, type StateChannelOptions } from './state-channel-options.js';

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
}

// A resume diff up to this long is sent without first serializing the whole value to compare sizes.
const SMALL_DIFF = 4096;

interface Member {
  readonly subscriber: StateSubscriber;
  /** The flushed position when it joined: it already has every value up to there. */
  readonly since: number;
  /** Set while held back: the position of the last value this subscriber got. */
  cursor: LogCursor | null;
}

/**
 * One storage's sync to its subscribers. The server makes one per shared
 * state and one per connection-own state.
 *
 * All methods are synchronous: when `flush()`, `join()` or `drained()`
 * returns, the messages have been handed to the subscribers.
 *
 * @example
 * const channel = new StateChannel(storage, { autoflushDelay: 200, maxSegmentSize: 65536, framing: 'segmented' })
 * channel.join(connection)        // sends the whole value (unless it is null)
 * storage.set('speed', 12)        // sent within 200 ms, to everyone at once
 * channel.flush()                 // or now
 * channel.close()
 */
export class StateChannel {
  /** The storage this channel syncs. */
  readonly storage: Storage;
  /** Work counters (see {@link StateChannelStats}). */
  readonly stats: StateChannelStats = { flushes: 0, diffsComputed: 0, messagesEncoded: 0, wholeValueEncodings: 0 };
  readonly #log: ChangeLog;
  readonly #delay: number | null;
  readonly #encoding: { maxSegmentSize: number; framing: 'segmented' | 'plain' };
  readonly #onError: (err: unknown, subscriber: StateSubscriber) => void;
  // At the last flushed position: what every up-to-date subscriber has.
  readonly #cursor: LogCursor;
  readonly #members = new Map<StateSubscriber, Member>();
  // The members whose cursor is set, so a flush with nothing new need not scan every member.
  readonly #behind = new Set<StateSubscriber>();
  readonly #history: VersionHistory;
  readonly #whole: WholeValueCache;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #closed = false;
  readonly #stopListening: () => void;

  /** @throws InvalidArgumentError naming the bad option */
  constructor(storage: Storage, options: StateChannelOptions) {
    const { autoflushDelay, maxSegmentSize, framing, historySize, onError } = resolveStateChannelOptions(options);
    this.storage = storage;
    this.#log = storage.log;
    this.#delay = autoflushDelay;
    this.#encoding = { maxSegmentSize, framing };
    this.#history = new VersionHistory(this.#log, historySize);
    this.#whole = new WholeValueCache(storage, () => void (this.stats.wholeValueEncodings += 1));
    this.#onError = onError;
    this.#cursor = this.#log.openCursor();
    this.#stopListening = this.#log.onCommit(this.#changed);
  }

  /** The version (`<state id>.<position>`) of the value as of the last flush. */
  get version(): string {
    return formatVersion(this.#log, this.#cursor.position);
  }

  /** Whether changes are waiting for a flush. */
  get pending(): boolean {
    return !this.#closed && this.#log.head !== this.#cursor.position;
  }

  /** Subscribers joined and not left. */
  get subscriberCount(): number {
    return this.#members.size;
  }

  /**
   * Adds a subscriber. Unflushed changes are first flushed to the others, so
   * the newcomer's first message continues exactly from what it gets here:
   * - plain: the whole value as one `replace` at `""`, or nothing while it is `null`;
   * - extension: nothing if `version` is the current one; else a diff from
   *   `version` if it is still held (or the whole value if that is smaller);
   *   else the whole value, even `null`. Each carries the current version.
   *
   * Joining twice, or after {@link StateChannel.close}, does nothing.
   * @param version what the client says it last applied (`hello.version`)
   */
  join(subscriber: StateSubscriber, version: string | null = null): void {
    if (this.#closed || this.#members.has(subscriber)) return;
    if (this.pending) this.flush();
    this.#members.set(subscriber, { subscriber, since: this.#cursor.position, cursor: null });
    if (!subscriber.extension) {
      if (this.storage.data !== null) this.#send(subscriber, this.#wholeFrames(false));
      return;
    }
    const current = this.#cursor.position;
    if (version === this.version) return;
    const diff = version === null ? undefined : this.diffFromVersion(version);
    if (diff !== undefined && (diff.length <= SMALL_DIFF || diff.length < this.#whole.text().length)) {
      this.#send(subscriber, this.#encode(stateMessageText(diff, formatVersion(this.#log, current)), 1));
    } else {
      this.#send(subscriber, this.#wholeFrames(true));
    }
    this.#history.remember(current);
  }

  /** Removes a subscriber (and releases what the log kept for it). Safe to call twice. */
  leave(subscriber: StateSubscriber): void {
    const member = this.#members.get(subscriber);
    if (member === undefined) return;
    member.cursor?.close();
    this.#members.delete(subscriber);
    this.#behind.delete(subscriber);
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
  flush(forSubscriber?: StateSubscriber): void {
    if (this.#closed) return;
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    const from = this.#cursor.position;
    const to = this.#log.head;
    if (from !== to) {
      this.stats.flushes += 1;
      if (this.#members.size === 0) this.#cursor.advance(to);
      else this.#fanOut(from, to);
    } else {
      for (const subscriber of [...this.#behind]) if (!subscriber.congested) this.#catchUp(subscriber, this.#members.get(subscriber)!);
    }
    if (forSubscriber !== undefined) {
      const member = this.#members.get(forSubscriber);
      if (member?.cursor) this.#catchUp(forSubscriber, member);
    }
  }

  /**
   * Tells the channel that a held-back subscriber has room again: it gets
   * one diff from what it last got to the last flush (the whole value if the
   * log no longer holds its position). Call it before waking other writers
   * of that connection, so the diff goes out ahead of later messages.
   */
  drained(subscriber: StateSubscriber): void {
    const member = this.#members.get(subscriber);
    if (member?.cursor) this.#catchUp(subscriber, member);
  }

  /**
   * The patch text (a JSON array) from `version` to the last flush, if this
   * channel sent that version and the log still holds it; `'[]'` for the
   * current version; else `undefined` (send the whole value).
   */
  diffFromVersion(version: string): string | undefined {
    const position = parseVersion(this.#log, version);
    const to = this.#cursor.position;
    if (position === to) return '[]';
    if (position === undefined || position > to || !this.#history.has(position)) return undefined;
    this.stats.diffsComputed += 1;
    return this.#log.diffText(position, to);
  }

  /** Stops the timer, drops all subscribers and releases the log. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#stopListening();
    for (const member of this.#members.values()) member.cursor?.close();
    this.#members.clear();
    this.#behind.clear();
    this.#history.close();
    this.#cursor.close();
    this.#whole.clear();
  }

  readonly #changed = (): void => {
    if (this.#closed) return;
    this.#whole.clear();
    if (this.#members.size === 0) {
      // Nobody to send to: move on at once, so the log keeps nothing for nobody.
      this.#cursor.advance();
      return;
    }
    if (this.#delay === 0) this.flush();
    else if (this.#delay !== null && this.#timer === null) {
      this.#timer = setTimeout(this.#tick, this.#delay);
      // A pending flush alone never keeps a process alive.
      (this.#timer as { unref?: () => void }).unref?.();
    }
  };

  readonly #tick = (): void => {
    this.#timer = null;
    this.flush();
  };

  #fanOut(from: number, to: number): void {
    this.stats.diffsComputed += 1;
    const diff = this.#log.diffText(from, to);
    // Keeps the records from `from` while the loop below holds back congested subscribers there.
    const hold = this.#log.openCursor(from);
    // Advanced before sending: a subscriber that joins from inside a send must find nothing pending.
    this.#cursor.advance(to);
    // One pass over the subscribers, each frame set built when first needed: with thousands of
    // connections, touching each one once instead of twice is measurable.
    let plainFrames: EncodedMessage | null | undefined;
    let extensionFrames: EncodedMessage | null | undefined;
    const shared = this.#members.size;
    try {
      for (const member of this.#members.values()) {
        // One that joined from inside a sendEncoded of this loop got the value at `to` already.
        if (member.since >= to) continue;
        const subscriber = member.subscriber;
        if (member.cursor !== null) {
          // Held back earlier and has room now: its own diff, not the shared one.
          if (!subscriber.congested) this.#catchUp(subscriber, member);
          continue;
        }
        if (subscriber.congested) {
          // Held back at what it has.
          member.cursor = this.#log.openCursor(from);
          this.#behind.add(subscriber);
          continue;
        }
        let frames: EncodedMessage | null;
        if (subscriber.extension) {
          if (extensionFrames === undefined) {
            extensionFrames = this.#framesFor(diff, true, to, shared);
            if (extensionFrames !== null) this.#history.remember(to);
          }
          frames = extensionFrames;
        } else {
          if (plainFrames === undefined) plainFrames = this.#framesFor(diff, false, to, shared);
          frames = plainFrames;
        }
        if (frames !== null) this.#send(subscriber, frames);
      }
    } finally {
      hold.close();
    }
  }

  /** What a subscriber up to date at the last flush gets for `diff`: null when there is nothing to send. */
  #framesFor(diff: string | undefined, extension: boolean, to: number, recipients: number): EncodedMessage | null {
    // The log dropped changes past its bound: the whole value.
    if (diff === undefined) return this.#wholeFrames(extension);
    if (diff === '[]') return null;
    return this.#encode(stateMessageText(diff, extension ? formatVersion(this.#log, to) : null), recipients);
  }

  /** Sends a held-back subscriber one diff from its position to the last flush. */
  #catchUp(subscriber: StateSubscriber, member: Member): void {
    if (!this.#log.holds(member.cursor!.position) && this.pending) {
      // Only the whole value can catch it up, and only the flushed one is consistent with later diffs.
      this.flush();
      if (member.cursor === null || !this.#members.has(subscriber)) return;
    }
    const cursor = member.cursor!;
    const to = this.#cursor.position;
    if (cursor.position < to) {
      this.stats.diffsComputed += 1;
      const diff = this.#log.diffText(cursor.position, to);
      if (diff === undefined) this.#send(subscriber, this.#wholeFrames(subscriber.extension));
      else if (diff !== '[]') this.#send(subscriber, this.#encode(stateMessageText(diff, subscriber.extension ? formatVersion(this.#log, to) : null), 1));
      if (subscriber.extension) this.#history.remember(to);
    }
    member.cursor = null;
    this.#behind.delete(subscriber);
    cursor.close();
  }

  #send(subscriber: StateSubscriber, frames: EncodedMessage): void {
    try {
      subscriber.sendEncoded(frames);
    } catch (err) {
      this.#onError(err, subscriber);
    }
  }

  /** Frames for `text`; as bytes when several subscribers get them, so the UTF-8 encoding is done once. */
  #encode(text: string, recipients: number): EncodedMessage {
    this.stats.messagesEncoded += 1;
    const frames = encodeMessage(text, this.#encoding);
    return recipients > 1 ? framesToBytes(frames) : frames;
  }

  /** The whole value as one `replace` at `""`, at the head (which the callers have flushed to). */
  #wholeFrames(extension: boolean): EncodedMessage {
    const version = extension ? formatVersion(this.#log, this.#log.head) : null;
    return this.#whole.frames(version, (text) => this.#encode(text, 1));
  }
}
