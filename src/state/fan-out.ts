/**
 * What fans a storage's diffs out to its subscribers: the members, their
 * kinds of message, congestion (a member whose send queue is full is held
 * back at what it has, and later gets one diff computed just for it), and
 * the frames of each flush, built once per kind and shared by every member
 * of that kind. Diffs come from a {@link DiffProducer}; turning message
 * text into frames is injected, so this layer knows no wire format.
 */
import type { LogCursor } from './change-log.js';
import type { DiffProducer, FlushDiff, StateChannelStats } from './diff-producer.js';
import { FrameCache, type FrameKey } from './frame-cache.js';
import { stateMessageText } from './state-message.js';
import type { View } from './view.js';
import { ViewIndex } from './view-index.js';
import { ViewMembers } from './view-members.js';
import type { ViewPath } from './view-paths.js';

/**
 * What a channel needs of a connection. The server's connection implements it.
 * @typeParam F the frames type of the injected encoding
 */
export interface StateSubscriber<F = unknown> {
  /** A koa-juggler.v1 connection: its state messages carry `version`. */
  readonly extension: boolean;
  /** Its send queue is full: hold its diffs back until it has drained. */
  readonly congested: boolean;
  /** Sends one pre-encoded message; the same frames go to many subscribers, so they must not be changed. */
  sendEncoded(frames: F): void;
}

/**
 * Turns a message's text into frames. `shared` says that many subscribers
 * will get these frames (then encoding them to bytes once pays off).
 */
export type MessageEncoder<F> = (text: string, shared: boolean) => F;

// A resume diff up to this long is sent without first serializing the whole value to compare sizes.
const SMALL_DIFF = 4096;
const PLAIN: FrameKey = 'plain';
const VERSIONED: FrameKey = 'versioned';

interface Member<F> {
  readonly subscriber: StateSubscriber<F>;
  /** Which frames it shares with others. */
  key: FrameKey;
  /** What it sees of the state; null: everything. */
  view: View | null;
  /** The flushed position when it joined: it already has every value up to there. */
  readonly since: number;
  /** Set while held back: the position of the last value this subscriber got. */
  cursor: LogCursor | null;
}

/**
 * The fan-out side of a storage's sync. All methods are synchronous: when
 * they return, the messages have been handed to the subscribers.
 */
export class FanOut<F> {
  readonly #diffs: DiffProducer;
  readonly #encoder: MessageEncoder<F>;
  readonly #stats: StateChannelStats;
  readonly #onError: (err: unknown, subscriber: StateSubscriber<F>) => void;
  // Brings the flushed position to the head (the channel's flush), for a catch-up that needs the whole value.
  readonly #flush: () => void;
  readonly #members = new Map<StateSubscriber<F>, Member<F>>();
  // The members whose cursor is set, so a flush with nothing new need not scan every member.
  readonly #behind = new Set<StateSubscriber<F>>();
  readonly #frames = new FrameCache<F>();
  readonly #views = new ViewIndex();
  // Who a flush may concern: with views in use it visits only these groups, not every member.
  readonly #groups = new ViewMembers<Member<F>>();

  constructor(
    diffs: DiffProducer,
    encoder: MessageEncoder<F>,
    stats: StateChannelStats,
    onError: (err: unknown, subscriber: StateSubscriber<F>) => void,
    flush: () => void,
  ) {
    this.#diffs = diffs;
    this.#encoder = encoder;
    this.#stats = stats;
    this.#onError = onError;
    this.#flush = flush;
  }

  /** Members joined and not left. */
  get size(): number {
    return this.#members.size;
  }

  /** Whether `subscriber` is a member. */
  has(subscriber: StateSubscriber<F>): boolean {
    return this.#members.has(subscriber);
  }

  /**
   * Adds a member at the flushed position (the caller flushed first) and
   * sends what it needs to continue from there: see `StateChannel.join`.
   * @param paths its view, canonical (null: everything)
   */
  join(subscriber: StateSubscriber<F>, version: string | null, paths: readonly ViewPath[] | null = null): void {
    const diffs = this.#diffs;
    const current = diffs.flushed;
    const view = paths === null ? null : this.#views.acquire(paths, diffs.storage.data);
    const member: Member<F> = { subscriber, key: frameKey(subscriber.extension, view), view, since: current, cursor: null };
    this.#members.set(subscriber, member);
    this.#groups.add(member, view);
    if (!subscriber.extension) {
      if (diffs.storage.data !== null) this.#send(subscriber, this.#wholeFrames(false, view));
      return;
    }
    if (version === diffs.version(current)) return;
    if (view !== null) {
      const position = version === null ? undefined : diffs.resumePosition(version);
      const ops = position === undefined ? undefined : diffs.opsFrom(position);
      const diff = ops === undefined ? undefined : view.diffSince(ops);
      if (diff === '[]') return;
      this.#send(subscriber, diff === undefined ? this.#wholeFrames(true, view) : this.#encode(stateMessageText(diff, diffs.version(current)), false));
    } else {
      const diff = version === null ? undefined : diffs.resumeDiff(version);
      if (diff !== undefined && (diff.length <= SMALL_DIFF || diff.length < diffs.wholeText().length)) {
        this.#send(subscriber, this.#encode(stateMessageText(diff, diffs.version(current)), false));
      } else {
        this.#send(subscriber, this.#wholeFrames(true, null));
      }
    }
    diffs.sent(current);
  }

  /** What `subscriber` sees (canonical paths), null for everything; undefined when it is no member. */
  viewOf(subscriber: StateSubscriber<F>): readonly ViewPath[] | null | undefined {
    const member = this.#members.get(subscriber);
    return member === undefined ? undefined : (member.view?.paths ?? null);
  }

  /**
   * Changes a member's view at the flushed position (the caller flushed
   * and caught it up first) and sends it one diff from what it saw to
   * what it sees now, nothing when they are equal.
   * @param paths canonical (null: everything)
   */
  setView(subscriber: StateSubscriber<F>, paths: readonly ViewPath[] | null): void {
    const member = this.#members.get(subscriber);
    if (member === undefined) return;
    const diffs = this.#diffs;
    const data = diffs.storage.data;
    const old = member.view;
    const view = paths === null ? null : this.#views.acquire(paths, data);
    this.#groups.remove(member, old);
    member.view = view;
    member.key = frameKey(subscriber.extension, view);
    this.#groups.add(member, view);
    let diff: string;
    if (view === old) diff = '[]';
    else if (view === null) diff = '[{"op":"replace","path":"","value":' + diffs.wholeText() + '}]';
    else if (old === null) diff = '[{"op":"replace","path":"","value":' + view.wholeText(data) + '}]';
    else diff = view.diffFromView(old, data);
    if (old !== null) this.#views.release(old);
    if (diff === '[]') return;
    const to = diffs.flushed;
    this.#send(subscriber, this.#encode(stateMessageText(diff, subscriber.extension ? diffs.version(to) : null), false));
    if (subscriber.extension) diffs.sent(to);
  }

  /** Removes a member (and releases what the record kept for it). Safe to call twice. */
  leave(subscriber: StateSubscriber<F>): void {
    const member = this.#members.get(subscriber);
    if (member === undefined) return;
    member.cursor?.close();
    this.#members.delete(subscriber);
    this.#behind.delete(subscriber);
    this.#groups.remove(member, member.view);
    if (member.view !== null) this.#views.release(member.view);
  }

  /**
   * Sends one flush's diff in one pass over the members: one set of frames
   * per kind and view, built when first needed (each touched view's diff is
   * built before any is sent, from the value at the flush); congested
   * members are held back at `diff.from` (the caller keeps the record there
   * during the pass), and held-back ones with room again get their own
   * catch-up.
   */
  send(diff: FlushDiff): void {
    const shared = this.#members.size > 1;
    let viewDiffs: Map<View, string> | null = null;
    if (this.#views.size > 0) {
      const ops = diff.ops();
      const data = this.#diffs.storage.data;
      if (ops === undefined) this.#views.refreshAll(data);
      else viewDiffs = this.#views.flush(ops, data);
    }
    if (viewDiffs === null) this.#sendEach(this.#members.values(), null, diff, null, shared);
    else {
      // Only the members the flush may concern: the held-back ones, those that see everything and
      // those of the views it touched (a member of an untouched view is already at the flush,
      // congested or not). The held-back ones are snapshotted: one caught up here must not get this
      // flush's frames too.
      const held = this.#behind.size === 0 ? null : new Set(this.#behind);
      if (held !== null) {
        for (const subscriber of held) {
          // Looked up one at a time: one may leave while another is caught up.
          const member = this.#members.get(subscriber);
          if (member !== undefined) this.#sendEach([member], null, diff, viewDiffs, shared);
        }
      }
      this.#sendEach(this.#groups.unviewed, held, diff, viewDiffs, shared);
      for (const view of viewDiffs.keys()) this.#sendEach(this.#groups.of(view), held, diff, viewDiffs, shared);
    }
    // Shared frames are not held past their flush.
    this.#frames.clear();
  }

  /**
   * {@link FanOut.send} to `members` but those in `skip`: one set of frames
   * per kind, built for the first member of the kind that is due.
   */
  #sendEach(members: Iterable<Member<F>>, skip: Set<StateSubscriber<F>> | null, diff: FlushDiff, viewDiffs: Map<View, string> | null, shared: boolean): void {
    // One loop with nothing called per member but what must be: this runs for every member of every flush.
    const { from, to } = diff;
    for (const member of members) {
      const subscriber = member.subscriber;
      // One that joined from inside a sendEncoded of this flush got the value at `to` already.
      if (member.since >= to || (skip !== null && skip.has(subscriber))) continue;
      if (member.cursor !== null) {
        // Held back earlier and has room now: its own diff, not the shared one.
        if (!subscriber.congested) this.#catchUp(subscriber, member);
        continue;
      }
      if (subscriber.congested) {
        // Held back at what it has.
        member.cursor = this.#diffs.hold(from);
        this.#behind.add(subscriber);
        continue;
      }
      let frames = this.#frames.get(member.key, to);
      if (frames === undefined) {
        const view = member.view;
        // A view: its diff of this flush ('[]' or absent when untouched); null: the record lost it, the whole view.
        const text = view === null ? diff.text() : viewDiffs === null ? undefined : (viewDiffs.get(view) ?? '[]');
        frames = this.#frames.set(member.key, to, this.#framesFor(text, subscriber.extension, to, shared, view));
      }
      if (frames !== null) this.#send(subscriber, frames);
    }
  }

  /** Catches up every held-back member that has room again. */
  catchUpAll(): void {
    for (const subscriber of [...this.#behind]) if (!subscriber.congested) this.#catchUp(subscriber, this.#members.get(subscriber)!);
  }

  /** Sends a held-back member its catch-up diff now, congested or not; nothing if it is not held back. */
  catchUp(subscriber: StateSubscriber<F>): void {
    const member = this.#members.get(subscriber);
    if (member?.cursor) this.#catchUp(subscriber, member);
  }

  /** Drops every member. */
  close(): void {
    for (const member of this.#members.values()) member.cursor?.close();
    this.#members.clear();
    this.#behind.clear();
    this.#frames.clear();
    this.#views.clear();
    this.#groups.clear();
  }

  /** What a member up to date at the last flush gets for `diff`: null when there is nothing to send. */
  #framesFor(diff: string | undefined, versioned: boolean, to: number, shared: boolean, view: View | null): F | null {
    if (diff === '[]') return null;
    if (versioned) this.#diffs.sent(to);
    // The record dropped changes past its bound: the whole value.
    if (diff === undefined) return this.#wholeFrames(versioned, view);
    return this.#encode(stateMessageText(diff, versioned ? this.#diffs.version(to) : null), shared);
  }

  /** Sends a held-back member one diff from its position to the last flush. */
  #catchUp(subscriber: StateSubscriber<F>, member: Member<F>): void {
    const diffs = this.#diffs;
    // A view's catch-up reads the value, which must be the flushed one; otherwise only the whole
    // value can catch it up, and only the flushed one is consistent with later diffs.
    if ((member.view !== null || !diffs.holds(member.cursor!.position)) && diffs.flushed !== diffs.head) {
      this.#flush();
      if (member.cursor === null || !this.#members.has(subscriber)) return;
    }
    const cursor = member.cursor!;
    const to = diffs.flushed;
    if (cursor.position < to) {
      const view = member.view;
      let diff: string | undefined;
      if (view === null) diff = diffs.diffFrom(cursor.position);
      else {
        const ops = diffs.opsFrom(cursor.position);
        diff = ops === undefined ? undefined : view.diffSince(ops);
      }
      if (diff === undefined) this.#send(subscriber, this.#wholeFrames(subscriber.extension, view));
      else if (diff !== '[]') this.#send(subscriber, this.#encode(stateMessageText(diff, subscriber.extension ? diffs.version(to) : null), false));
      if (subscriber.extension && diff !== '[]') diffs.sent(to);
    }
    member.cursor = null;
    this.#behind.delete(subscriber);
    cursor.close();
  }

  #send(subscriber: StateSubscriber<F>, frames: F): void {
    try {
      subscriber.sendEncoded(frames);
    } catch (err) {
      this.#onError(err, subscriber);
    }
  }

  /** Frames for `text`; `shared` when several members get them, so the encoding to bytes is done once. */
  #encode(text: string, shared: boolean): F {
    this.#stats.messagesEncoded += 1;
    return this.#encoder(text, shared);
  }

  /** The whole value (or view) as one `replace` at `""`, at the head (which the callers have flushed to); cached for many joiners. */
  #wholeFrames(versioned: boolean, view: View | null): F {
    const diffs = this.#diffs;
    const version = versioned ? diffs.version(diffs.head) : null;
    const encode = (text: string): F => this.#encode(text, true);
    if (view !== null) return view.wholeFrames(diffs.storage.data, diffs.head, version, encode);
    return diffs.wholeFrames(version, encode);
  }
}

/** The one place a member's kind is decided: one kind per distinct message (plain or versioned, and view). */
function frameKey(versioned: boolean, view: View | null): FrameKey {
  if (view === null) return versioned ? VERSIONED : PLAIN;
  // Made once per view: a fresh concatenation per join would be hashed anew on every flush.
  return versioned ? (view.versionedFrameKey ??= VERSIONED + view.key) : (view.plainFrameKey ??= PLAIN + view.key);
}
