/**
 * A connection's side of state sync: which {@link StateChannel} it is on
 * (the server's shared one, its session's, or its own made on first use)
 * and every call into that channel on behalf of its subscriber (the
 * connection). Kept in one place so that a change to how channels are made
 * or called touches this file (and the subscriber block of connection.ts)
 * alone.
 */
import type { Storage } from '../state/storage.js';
import type { StateChannel, StateSubscriber } from '../state/state-channel.js';
import { canonicalView, type ViewPath, type ViewPaths } from '../state/view-paths.js';

/** Where a connection's channel comes from: built once by the server. */
export interface StateSources {
  /** The shared state's channel, or null when each connection (or session) has its own. */
  sharedChannel: StateChannel | null;
  /** Makes a channel for a connection's own Storage. */
  newChannel(): StateChannel;
  /** On a cluster: settles once this node's earlier writes are applied (what `conn.flush()` waits for first). */
  settled?: () => Promise<void>;
  /** On a cluster: whether this node's state may be behind now. */
  stale?: () => boolean;
  /** On a cluster: what a resume from `version` waits for first (this node applying it, bounded); null: nothing. */
  catchUp?: (version: string) => Promise<void> | null;
}

/** One connection's membership in a state channel. */
export class ConnectionState {
  readonly #subscriber: StateSubscriber;
  readonly #sources: StateSources;
  #channel: StateChannel | null = null;
  #ownsChannel = false;
  // The view it joins with, or has before it joined (canonical; null: everything).
  #view: readonly ViewPath[] | null = null;
  #joined = false;

  constructor(subscriber: StateSubscriber, sources: StateSources) {
    this.#subscriber = subscriber;
    this.#sources = sources;
  }

  /**
   * The connection's Storage, its own one made on first use when it has
   * none (`join` says whether to join that new channel at once).
   * @throws Error on an extension connection before its `hello`
   */
  storage(join: boolean): Storage {
    if (this.#channel === null) {
      if (this.#subscriber.extension) throw new Error('connection state is not ready before the client says hello');
      // A plain connection's own state is made on first use: many applications never touch it,
      // and a Storage with its sync channel costs about 2 KiB per connection. Made after the
      // join point, it starts as null, so joining sends nothing and every set() goes out as a diff.
      this.#channel = this.#own();
      if (join) this.#channel.join(this.#subscriber, null, this.#view);
    }
    return this.#channel.storage;
  }

  /** A plain connection starts on the shared channel, if any (else its own, made when first used). */
  useShared(): void {
    this.#channel = this.#sources.sharedChannel;
  }

  /** An extension connection, at `hello`: the shared channel, else its session's, else its own. */
  useSession(sessionChannel: StateChannel | null): void {
    this.#channel = this.#sources.sharedChannel ?? sessionChannel ?? this.#own();
  }

  /** Joins the channel: the whole value (of its view), a resume diff from `version`, or nothing. */
  join(version: string | null): void {
    this.#joined = true;
    this.#channel?.join(this.#subscriber, version, this.#view);
  }

  /** What the connection sees: canonical paths, null for everything. */
  get view(): readonly ViewPath[] | null {
    return this.#view;
  }

  /**
   * Changes the view: before joining, what it will join with; after, at a
   * flush boundary with one diff to the new view.
   * @throws InvalidArgumentError naming the bad step, with nothing changed
   */
  setView(paths: ViewPaths | null, argument: string): void {
    const view = paths === null ? null : canonicalView(paths, argument);
    this.#view = view;
    if (this.#joined) this.#channel?.setView(this.#subscriber, view);
  }

  /** On a cluster: what a resume from `version` waits for first (see StateSources.catchUp); else null. */
  catchingUp(version: string | null): Promise<void> | null {
    return version === null ? null : (this.#sources.catchUp?.(version) ?? null);
  }

  /** On a cluster: what `conn.flush()` waits for first (this node's earlier writes); else null. */
  settling(): Promise<void> | null {
    return this.#sources.settled?.() ?? null;
  }

  /** Whether the state is stale now (a cluster node cut off from Redis). */
  get stale(): boolean {
    return this.#sources.stale?.() ?? false;
  }

  /** Sends this connection's pending diff now (see `conn.flush()`). */
  flush(): void {
    this.#channel?.flush(this.#subscriber);
  }

  /** The send queue has room again: a held-back diff goes out first. */
  drained(): void {
    this.#channel?.drained(this.#subscriber);
  }

  /** Leaves the channel, closing it when it was this connection's own. */
  leave(): void {
    if (this.#channel === null) return;
    this.#channel.leave(this.#subscriber);
    if (this.#ownsChannel) this.#channel.close();
  }

  #own(): StateChannel {
    this.#ownsChannel = true;
    return this.#sources.newChannel();
  }
}
