/**
 * RedisLogStore: everything a cluster node keeps in Redis, as one object:
 * the log (append exactly once, follow, read back), snapshots with their
 * lease and trimming, the epoch, and the nodes' liveness. It knows nothing
 * of Storage or connections: the replicated state builds on it.
 *
 * Three connections per node (see docs/cluster.md "Connections"): commands
 * (appends, reads back), a dedicated blocking reader, and control (lease,
 * snapshots, heartbeats), each watched by its own watchdog.
 */
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { InvalidArgumentError } from '../errors.js';
import { checkName, clusterKeys, type ClusterKeys } from './cluster-keys.js';
import { LogAppender, type AppendResult } from './log-appender.js';
import { parseEntry, type LogEntry, type ParsedEntry, type Snapshot } from './log-entry.js';
import { LogReader, readPage, type ReaderPacing, type ReaderStop } from './log-reader.js';
import * as live from './liveness.js';
import { RedisLink, type LinkRole } from './redis-link.js';
import { SnapshotLease, readSnapshot, trimLog, writeSnapshot, type SnapshotWrite } from './snapshots.js';

/** Options of {@link RedisLogStore.open}. */
export interface RedisLogStoreOptions {
  /** `redis://` or `rediss://`, credentials allowed. */
  url: string;
  /** The cluster's name: every key starts with `koa-juggler:<name>:`. */
  name: string;
  /** This node's id (1-64 of `A-Z a-z 0-9 . _ -`). @default random */
  nodeId?: string;
  /** A connection that owes a reply this long (ms) is replaced. @default 10000 */
  watchdog?: number;
  /** How long an append may wait for Redis, in ms. @default 10000 */
  writeTimeout?: number;
  /** Appends waiting at once; beyond, an append rejects at once. @default 100000 */
  maxPendingWrites?: number;
  /** How long Redis keeps a write id for de-duplication, in ms (more than `writeTimeout`). @default 60000 */
  dedupTtl?: number;
  /** Entries per page when reading. @default 1000 */
  pageSize?: number;
  /** How long one blocking read waits, in ms. @default min(1000, watchdog / 2) */
  block?: number;
  /** How long the snapshot lease lasts without renewal, in ms. @default 5000 */
  leaseTtl?: number;
  /** How long a node's liveness key lasts without a heartbeat, in ms. @default 5000 */
  nodeTtl?: number;
}

/** Events of a {@link RedisLogStore}. */
export interface RedisLogStoreEvents {
  /** A link failed (Redis unreachable or a connection dropped); node-redis reconnects. */
  down: [err: Error];
  /** A link is ready again. */
  up: [role: LinkRole];
  /** The watchdog replaced a link that stopped answering. */
  replaced: [role: LinkRole, reason: string];
  /** Entries read by {@link RedisLogStore.follow}, in log order. */
  entries: [entries: LogEntry[]];
  /** An unreadable entry, skipped. */
  junk: [junk: { seq: number; reason: string }];
  /** The follower stopped by itself. */
  stopped: [why: ReaderStop];
  /** A heartbeat found Redis behind what this node applied. */
  backwards: [why: live.Backwards];
}

function positive(value: unknown, argument: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new InvalidArgumentError(argument, 'a positive number', value);
  return value;
}

/**
 * One node's access to a cluster's log in Redis.
 *
 * @example
 * const store = await RedisLogStore.open({ url: 'redis://127.0.0.1:6379', name: 'plant' });
 * const { epoch } = await store.claimEpoch({ points: {} });
 * store.on('entries', (entries) => apply(entries));
 * store.follow(epoch, 0);
 * await store.append(epoch, store.newWriteId(), JSON.stringify({ set: [['a'], 1] }));
 */
export class RedisLogStore extends EventEmitter<RedisLogStoreEvents> {
  readonly nodeId: string;
  readonly keys: ClusterKeys;
  /** The three links, for their `replacements` counts and tests. */
  readonly links: Readonly<Record<LinkRole, RedisLink>>;
  readonly #appender: LogAppender;
  readonly #reader: LogReader;
  readonly #lease: SnapshotLease;
  readonly #pageSize: number;
  readonly #nodeTtl: number;
  #writeCounter = 0;
  #heartbeatTimer: ReturnType<typeof setInterval> | null = null;
  #closed = false;

  #lastHead = 0;

  private constructor(options: RedisLogStoreOptions) {
    super();
    if (typeof options?.url !== 'string' || !/^rediss?:\/\//.test(options.url)) {
      throw new InvalidArgumentError('options.url', 'a redis:// or rediss:// URL', options?.url);
    }
    this.keys = clusterKeys(checkName(options.name, 'options.name'));
    this.nodeId = options.nodeId === undefined ? randomBytes(6).toString('hex') : checkName(options.nodeId, 'options.nodeId');
    const watchdog = positive(options.watchdog, 'options.watchdog', 10_000);
    this.#pageSize = positive(options.pageSize, 'options.pageSize', 1000);
    this.#nodeTtl = positive(options.nodeTtl, 'options.nodeTtl', 5000);
    const block = positive(options.block, 'options.block', Math.min(1000, watchdog / 2));
    const writeTimeout = positive(options.writeTimeout, 'options.writeTimeout', 10_000);
    const dedupTtl = positive(options.dedupTtl, 'options.dedupTtl', 60_000);
    if (dedupTtl <= writeTimeout) throw new InvalidArgumentError('options.dedupTtl', `more than options.writeTimeout (${writeTimeout})`, dedupTtl);
    const link = (role: LinkRole): RedisLink => {
      const l = new RedisLink({ url: options.url, role, watchdog });
      l.on('down', (err) => this.emit('down', err));
      l.on('up', () => this.emit('up', role));
      l.on('replaced', (reason) => this.emit('replaced', role, reason));
      return l;
    };
    this.links = { commands: link('commands'), reader: link('reader'), control: link('control') };
    this.#appender = new LogAppender(this.links.commands, this.keys, {
      nodeId: this.nodeId,
      writeTimeout,
      maxPendingWrites: positive(options.maxPendingWrites, 'options.maxPendingWrites', 100_000),
      dedupTtl,
    });
    this.#reader = new LogReader(this.links.reader, this.keys, { pageSize: this.#pageSize, block });
    this.#reader.on('entries', (entries) => this.emit('entries', entries));
    this.#reader.on('junk', (junk) => this.emit('junk', junk));
    this.#reader.on('stopped', (why) => this.emit('stopped', why));
    this.#lease = new SnapshotLease(this.links.control, this.keys, positive(options.leaseTtl, 'options.leaseTtl', 5000));
  }

  /**
   * Connects the three links and loads the scripts.
   *
   * @throws {InvalidArgumentError} naming a bad option
   * @throws {Error} naming the URL without its password when Redis cannot be reached
   */
  static async open(options: RedisLogStoreOptions): Promise<RedisLogStore> {
    const store = new RedisLogStore(options);
    try {
      await Promise.all(Object.values(store.links).map((l) => l.connect()));
    } catch (err) {
      await store.close();
      throw err;
    }
    return store;
  }

  /** Whether all three links answer now. */
  get connected(): boolean {
    return Object.values(this.links).every((l) => l.ready);
  }

  /** Appends waiting for Redis. */
  get pendingAppends(): number {
    return this.#appender.pending;
  }

  /** A write id unique to this node's lifetime: `<nodeId>:<random>:<counter>`. */
  newWriteId(): string {
    this.#writeCounter += 1;
    return `${this.nodeId}:${this.#lease.token.slice(0, 8)}:${this.#writeCounter}`;
  }

  /** See {@link live.claimEpoch}. */
  claimEpoch(seed: unknown, replacing = ''): Promise<{ epoch: string; created: boolean }> {
    return live.claimEpoch(this.links.control, this.keys, seed, replacing);
  }

  /** The epoch in Redis and its head seq, or null when there is none. */
  readEpoch(): Promise<{ epoch: string; head: number } | null> {
    return live.readEpoch(this.links.control, this.keys);
  }

  /**
   * Appends an entry in order, exactly once (see {@link LogAppender.append}).
   *
   * @throws {ClusterUnavailableError} (rejection) past `writeTimeout` or `maxPendingWrites`
   */
  append(epoch: string, writeId: string, body: string): Promise<AppendResult> {
    return this.#appender.append(epoch, writeId, body);
  }

  /** Makes the follower read now if it rests between reads. */
  wakeReader(): void {
    this.#reader.wake();
  }

  /** Sets when the follower rests between reads (see {@link LogReader.pace}); until then it reads at once. */
  pace(pacing: ReaderPacing): void {
    this.#reader.pace(pacing);
  }

  /** This node applied entry `seq` from its append's reply: the follower need not read it back (see {@link LogReader.passed}). */
  passed(seq: number): void {
    this.#reader.passed(seq);
  }

  /** Whether the follower follows the log now (not stopped for a resync, or not yet started). */
  get following(): boolean {
    return this.#reader.running;
  }

  /** Follows the log of `epoch` after `afterSeq`, emitting 'entries', 'junk' and 'stopped'. */
  follow(epoch: string, afterSeq: number): void {
    this.#reader.start(epoch, afterSeq);
  }

  /** Stops following. */
  stopFollowing(): void {
    this.#reader.stop();
  }

  /** The seq of the last entry the follower delivered or skipped. */
  get followPosition(): number {
    return this.#reader.position;
  }

  /**
   * Reads back entries `from..to` (inclusive; `to` Infinity: to the end),
   * in pages of `pageSize`, parsed (junk and unknown formats included as such).
   */
  async *readRange(from: number, to = Infinity): AsyncGenerator<ParsedEntry[]> {
    let next = from;
    while (next <= to) {
      const page = await this.links.commands.run((c) => readPage(c, this.keys, next, to, this.#pageSize));
      if (page.length === 0) return;
      yield page.map(({ id, message }) => parseEntry(id, message));
      const last = page[page.length - 1]!.id;
      next = Number(last.split('-')[0]) + 1;
      if (page.length < this.#pageSize) return;
    }
  }

  /** Takes or renews the snapshot lease; true when this node holds it. */
  acquireLease(): Promise<boolean> {
    return this.#lease.acquire();
  }

  /** Gives the snapshot lease up if held. */
  releaseLease(): Promise<void> {
    return this.#lease.release();
  }

  /** Writes a snapshot of `value` as of `seq` (this node must hold the lease). */
  writeSnapshot(epoch: string, seq: number, value: unknown): Promise<SnapshotWrite> {
    return writeSnapshot(this.links.control, this.keys, this.#lease, epoch, seq, value);
  }

  /** The newest snapshot, or null. */
  readSnapshot(): Promise<Snapshot | null> {
    return readSnapshot(this.links.control, this.keys);
  }

  /** Trims the log behind the snapshot and `retention` ms; resolves with the entries removed. */
  trim(retention: number): Promise<number> {
    return trimLog(this.links.control, this.keys, retention);
  }

  /** Writes this node's liveness key once; returns what Redis holds. */
  heartbeat(record: live.NodeRecord): Promise<live.HeartbeatReply> {
    return live.heartbeat(this.links.control, this.keys, this.nodeId, record, this.#nodeTtl);
  }

  /**
   * Sends a heartbeat every `nodeTtl / 3` ms with `record()`, and emits
   * 'backwards' on every beat while Redis is behind it. A failed beat
   * waits for the next one (the links report their own failures).
   */
  startHeartbeat(record: () => live.NodeRecord): void {
    this.stopHeartbeat();
    const beat = async (): Promise<void> => {
      if (!this.links.control.ready) return;
      const applied = record();
      const reply = await this.heartbeat(applied);
      if (reply.epoch === applied.epoch) this.#lastHead = reply.head;
      const why = live.wentBackwards(reply, applied);
      if (why) this.emit('backwards', why);
    };
    this.#heartbeatTimer = setInterval(() => beat().catch(() => {}), Math.max(20, Math.floor(this.#nodeTtl / 3)));
    this.#heartbeatTimer.unref();
    beat().catch(() => {});
  }

  /** The log's last seq as the latest heartbeat found it (0 before the first), for lag figures. */
  get lastKnownHead(): number {
    return this.#lastHead;
  }

  /** Stops the heartbeat (the liveness key then expires). */
  stopHeartbeat(): void {
    if (this.#heartbeatTimer) clearInterval(this.#heartbeatTimer);
    this.#heartbeatTimer = null;
  }

  /** Live nodes with their applied position, most advanced first. */
  liveNodes(): Promise<live.LiveNode[]> {
    return live.liveNodes(this.links.control, this.keys);
  }

  /** Compares the entry at `seq` with what the caller applied there; see {@link live.checkEntry}. */
  checkEntry(epoch: string, seq: number, writeId: string): Promise<'same' | 'different' | 'missing'> {
    return live.checkEntry(this.links.commands, this.keys, epoch, seq, writeId);
  }

  /** Closes the links; waiting appends reject; what is in Redis stays. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.stopHeartbeat();
    this.#reader.stop();
    this.#appender.close();
    for (const l of Object.values(this.links)) l.close();
  }
}
