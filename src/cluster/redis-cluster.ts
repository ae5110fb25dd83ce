/**
 * `redisCluster()`: one node of a cluster of koa-juggler servers sharing
 * one state through Redis (docs/cluster.md). It ties the pieces together:
 * the log store (Redis), the replicated log behind the state seam and the
 * {@link ClusterState} on it, the follower that applies entries in log
 * order, snapshots, and the recovery paths (a gap: resync; Redis gone
 * backwards: a new epoch seeded by the most advanced node).
 */
import { ClusterUnavailableError } from '../errors.js';
import type { JsonValue } from '../json.js';
import type { ClusterOperating, ClusterServerHooks, ServerCluster } from '../server/cluster-hooks.js';
import { CatchUp } from './catch-up.js';
import { ClusterLog } from './cluster-log.js';
import { resolveClusterOptions, type RedisClusterOptions, type ResolvedClusterOptions } from './cluster-options.js';
import { ClusterState } from './cluster-state.js';
import { loadState, type LoadedState } from './log-loader.js';
import type { LogEntry } from './log-entry.js';
import type { ReaderStop } from './log-reader.js';
import { RedisLogStore } from './redis-log-store.js';
import { redisSessionBackend } from './redis-sessions.js';
import type { SessionBackend } from '../server/session-backend.js';
import { SnapshotKeeper } from './snapshot-keeper.js';
import { Recovery } from './recovery.js';
import { RetentionHold } from './retention-hold.js';
import { changeLogOf } from '../state/storage.js';
import { gatherWindow, ReadPacing } from './read-pacing.js';

/** Broadcasts older than this by Redis's clock are not replayed by a node catching up. */
export const BROADCAST_REPLAY_LIMIT = 5000;

/**
 * One node of a Redis-backed cluster: hand it to `listen({ cluster })`.
 * Made by {@link redisCluster}.
 */
export class RedisCluster implements ServerCluster {
  /** The replicated state: Storage's read API; `set()`/`remove()` return promises. */
  readonly state: ClusterState;
  readonly #store: RedisLogStore;
  readonly #log: ClusterLog;
  readonly #options: ResolvedClusterOptions;
  readonly #servers = new Set<ClusterServerHooks>();
  readonly #snapshots: SnapshotKeeper;
  readonly #recovery: Recovery;
  readonly #hold: RetentionHold;
  readonly #catchUp: CatchUp;
  readonly #pacing: ReadPacing;
  readonly #downLinks = new Set<string>();
  #clockOffset: number;
  #stale = false;
  #closed = false;

  /** @internal use {@link redisCluster} */
  constructor(store: RedisLogStore, loaded: LoadedState, clockOffset: number, options: ResolvedClusterOptions) {
    this.#store = store;
    this.#options = options;
    this.#clockOffset = clockOffset;
    this.#log = new ClusterLog(store, {
      onBroadcast: (name, data, time) => this.#deliver(name, data, time),
      onJunk: (seq, reason) => this.#reportJunk(seq, reason),
      onWrongEpoch: () => this.#recovery.resync('an append found another epoch'),
      onApplied: (time, position) => {
        this.#hold.applied(time, position);
        this.#pacing.applied(performance.now());
        // Entries are applied by the reader or, this node's own, from their append's reply: resumes waiting for either go ahead.
        this.#catchUp.check();
      },
      linger: () => (this.#closed ? 0 : gatherWindow(this.#flushDelays())),
    }, loaded);
    this.state = new ClusterState(this.#log, (err) => this.#report(err instanceof Error ? err : new Error(String(err))));
    this.#hold = new RetentionHold(changeLogOf(this.state), options.retention);
    const node = this;
    this.#pacing = new ReadPacing({
      autoflushDelays: () => node.#flushDelays(),
      get readNeeded() { return node.#closed || node.#log.waitsForReader || node.#catchUp.waiting > 0; },
      get appendedAt() { return node.#log.appendedAt; },
      get readerCaughtUp() { return store.followPosition === node.#log.seq; },
    });
    store.pace(this.#pacing);
    this.#catchUp = new CatchUp({
      get epoch() { return node.#log.epoch; },
      get seq() { return node.#log.seq; },
      seqOf: (version) => node.#log.versions.seqOf(version),
    }, options.resumeWait);
    this.#snapshots = new SnapshotKeeper(store, {
      get epoch() { return node.#log.epoch; },
      get seq() { return node.#log.seq; },
      get value() { return node.state.data; },
      get holding() { return node.ready; },
    }, { snapshotInterval: options.snapshotInterval, retention: options.retention, every: options.snapshotCheck, snapshotSeq: loaded.seq, onError: (err) => this.#report(err) });
    this.#recovery = new Recovery(store, this.#log, this.state, {
      resetWait: options.resetWait,
      report: (err) => this.#report(err),
      resumed: (state) => this.#resumed(state),
      staleChanged: () => this.#updateStale(),
    });
    this.#wire(loaded);
  }

  /** Whether all of this node's Redis connections answer now. */
  get connected(): boolean {
    return this.#store.connected;
  }

  /** Whether this node holds the cluster's state (false while it resyncs or resets): what `/readyz` asks. */
  get ready(): boolean {
    return !this.#closed && !this.#recovery.busy;
  }

  /** @internal this node's figures for `/readyz`, `/metrics` and the admin page */
  operating(): ClusterOperating {
    return {
      ready: this.ready,
      connected: this.connected,
      lag: Math.max(0, this.#store.lastKnownHead - this.#log.seq),
      pendingWrites: this.#store.pendingAppends,
    };
  }

  /** @internal the live nodes, most advanced first, with how far each is behind the log's head */
  async nodes(): Promise<{ id: string; self: boolean; lag: number | null }[]> {
    const nodes = await this.#store.liveNodes();
    const head = Math.max(this.#store.lastKnownHead, ...nodes.map((n) => n.seq));
    return nodes.map((n) => ({ id: n.nodeId, self: n.nodeId === this.nodeId, lag: n.epoch === this.#log.epoch ? head - n.seq : null }));
  }

  /** @internal null when this node can resume a client from `version` now; else settles once it applied it, or after `resumeWait` */
  catchUp(version: string): Promise<void> | null {
    if (this.#closed) return null;
    const waiting = this.#catchUp.wait(version);
    if (waiting !== null) this.#store.wakeReader();
    return waiting;
  }

  /**
   * @internal what redisCluster() waits for after loading: this node
   * applied the log's head as it stands now (a resync on the way gets it
   * there too). Also settles when the node moved to another epoch or
   * closed, and after `bound` ms (Redis went away: the node serves as it
   * stands, stale). Never rejects.
   */
  async whenCurrent(bound: number): Promise<void> {
    const info = await this.#store.readEpoch().catch(() => null);
    if (info === null || info.epoch !== this.#log.epoch || this.#closed) return;
    const waiting = this.#catchUp.until(info.head, bound);
    if (waiting === null) return;
    this.#store.wakeReader();
    await waiting;
  }

  /** @internal sessions and keyed results in this cluster's Redis, for `listen({ cluster })` */
  sessionBackend(): SessionBackend {
    return redisSessionBackend(this.#store, { writeTimeout: this.#options.writeTimeout, onError: (err) => this.#report(err) });
  }

  /** Whether this node's state may be behind the cluster's now (Redis unreachable, resyncing). */
  get stale(): boolean {
    return this.#stale;
  }

  /** The version of this node's state as of its last applied entry (`<epoch>.<seq>`). */
  get version(): string {
    return `${this.#log.epoch}.${this.#log.seq}`;
  }

  /** This node's id in Redis. */
  get nodeId(): string {
    return this.#store.nodeId;
  }

  /** @internal the log store, for tests */
  get store(): RedisLogStore {
    return this.#store;
  }

  /** @internal registers a server listening on this cluster */
  joinServer(hooks: ClusterServerHooks): () => void {
    this.#servers.add(hooks);
    return () => this.#servers.delete(hooks);
  }

  *#flushDelays(): Iterable<number | null> {
    for (const server of this.#servers) yield server.autoflushDelay;
  }

  /**
   * @internal appends a broadcast after this node's earlier writes
   * @throws TypeError when JSON cannot carry `data`
   */
  broadcast(name: string, data: JsonValue): Promise<void> {
    const delivered = this.#log.broadcast(name, data);
    delivered.catch((err: unknown) => this.#report(err as Error));
    return delivered;
  }

  /** @internal settles once this node's earlier writes are applied or failed */
  settled(): Promise<void> {
    return this.#log.settled();
  }

  /**
   * Stops this node: writes still waiting reject with
   * ClusterUnavailableError; what is in Redis stays. Safe to call twice.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#snapshots.close();
    this.#recovery.close();
    this.#hold.close();
    this.#catchUp.close();
    this.#log.failAll(new ClusterUnavailableError('the cluster node closed', { sent: false }));
    await this.#store.releaseLease().catch(() => {});
    await this.#store.close();
  }

  /** `await using cluster = await redisCluster(...)` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #wire(loaded: LoadedState): void {
    const store = this.#store;
    store.on('entries', (entries: LogEntry[]) => this.#log.applyEntries(entries));
    store.on('junk', ({ seq, reason }) => this.#log.skip(seq, reason));
    store.on('stopped', (why: ReaderStop) => this.#recovery.readerStopped(why));
    store.on('backwards', (why) => this.#recovery.backwards(why));
    store.on('down', (err) => this.#linkChanged(err));
    store.on('up', () => this.#linkChanged(null));
    store.on('replaced', (role, reason) => this.#report(new Error(`the ${role} connection to Redis stopped answering (${reason}): replaced`)));
    // Junk before the loaded seq is passed already: reported, as after a resync (#resumed).
    for (const junk of loaded.junk) this.#reportJunk(junk.seq, junk.reason);
    store.follow(loaded.epoch, loaded.seq);
    store.startHeartbeat(() => ({ epoch: this.#log.epoch, seq: this.#log.seq }));
  }

  #resumed(state: LoadedState): void {
    this.#snapshots.reset(state.seq);
    this.#catchUp.check();
    for (const junk of state.junk) this.#reportJunk(junk.seq, junk.reason);
    for (const b of state.broadcasts) this.#deliver(b.name, b.data, b.time);
  }

  #linkChanged(err: Error | null): void {
    const wasDown = this.#downLinks.size > 0;
    if (err !== null) this.#downLinks.add('any');
    else if (this.#store.connected) this.#downLinks.clear();
    const isDown = this.#downLinks.size > 0;
    if (isDown && !wasDown) this.#report(new Error(`Redis is unreachable (${err?.message ?? ''}): serving the last state, writes wait up to ${this.#options.writeTimeout} ms`));
    if (!isDown && wasDown) this.#report(new Error('Redis is reachable again'));
    this.#updateStale();
  }

  #updateStale(): void {
    const stale = !this.#closed && (this.#downLinks.size > 0 || this.#recovery.busy);
    if (stale === this.#stale) return;
    this.#stale = stale;
    for (const server of this.#servers) server.onStatus(stale);
  }

  #deliver(name: string, data: JsonValue, time: number): void {
    if (Date.now() + this.#clockOffset - time > BROADCAST_REPLAY_LIMIT) return;
    for (const server of this.#servers) server.onBroadcast(name, data);
  }

  #reportJunk(seq: number, reason: string): void {
    this.#report(new Error(`log entry ${seq} is not one of ours (${reason}): skipped on every node`));
  }

  #report(err: Error): void {
    if (this.#closed && err instanceof ClusterUnavailableError) return;
    try {
      this.#options.onError(err);
    } catch {
      // An onError that throws must not stop the cluster.
    }
    for (const server of this.#servers) server.onError(err);
  }
}

/**
 * Joins (or starts) the cluster `options.name` on the Redis at
 * `options.url`. Resolves once this node holds the cluster's current state:
 * the newest snapshot and the log after it, or `initial` when Redis holds
 * no state for this cluster yet.
 *
 * @example
 * const cluster = await redisCluster({ url: 'redis://127.0.0.1:6379', name: 'plant', initial: { points: {} } });
 * const server = await listen({ cluster, sessionSecret: process.env.SESSION_SECRET });
 * await cluster.state.set(['points', 'p1'], 3);
 * @throws InvalidArgumentError naming a bad option
 * @throws Error naming the URL (without its password) when Redis cannot be reached
 */
export async function redisCluster(options: RedisClusterOptions): Promise<RedisCluster> {
  const o = resolveClusterOptions(options);
  const store = await RedisLogStore.open({
    url: o.url,
    name: o.name,
    ...(o.nodeId === undefined ? {} : { nodeId: o.nodeId }),
    watchdog: o.watchdog,
    writeTimeout: o.writeTimeout,
    maxPendingWrites: o.maxPendingWrites,
    dedupTtl: Math.max(60_000, o.writeTimeout * 2),
    block: Math.min(1000, o.watchdog / 2),
    leaseTtl: o.leaseTtl,
    nodeTtl: o.leaseTtl,
  });
  try {
    const clockOffset = await redisClockOffset(store);
    // Entries younger than retention are left to the node's reader, so its
    // change record holds them: a client may resume here from a version
    // another node sent before this one started.
    const loaded = await loadCurrent(store, o.initial, Date.now() + clockOffset - o.retention);
    const cluster = new RedisCluster(store, loaded, clockOffset, o);
    await cluster.whenCurrent(o.writeTimeout);
    return cluster;
  } catch (err) {
    await store.close();
    throw err;
  }
}

/** Claims the epoch (creating it from `initial` when Redis holds none) and loads its value, retrying a race with a reset. */
async function loadCurrent(store: RedisLogStore, initial: JsonValue, holdFrom: number): Promise<LoadedState> {
  for (let attempt = 0; ; attempt++) {
    const { epoch } = await store.claimEpoch(initial);
    try {
      return await loadState(store, epoch, holdFrom);
    } catch (err) {
      if (attempt >= 3 || !(err instanceof Error) || !err.message.startsWith('the epoch in Redis is no longer')) throw err;
    }
  }
}

/** Redis's clock minus ours, in ms: how broadcasts' ages are judged. */
async function redisClockOffset(store: RedisLogStore): Promise<number> {
  const [seconds, micros] = await store.links.control.run((c) => c.time());
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000) - Date.now();
}
