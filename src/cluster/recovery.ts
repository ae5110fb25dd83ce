/**
 * How a node gets back to the cluster's state when following the log is
 * not enough (docs/cluster.md, "Failures"):
 *
 * - a gap (the log was trimmed past this node, e.g. it was stopped longer
 *   than `retention`) or an entry of another epoch: resync from the
 *   snapshot and the log, then the clients get one diff to the new value;
 * - Redis went backwards (restarted empty, an older dump, a failover that
 *   lost writes): wait `resetWait` for every live node's report, then the
 *   most advanced live node seeds a new epoch with its value (never
 *   `initial` while a live node holds newer data) and every node resyncs
 *   to it; versions of the old epoch then name nothing;
 * - an entry of an unknown format: stop applying and report, never guess.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { JsonValue } from '../json.js';
import type { ClusterLog } from './cluster-log.js';
import type { Backwards } from './liveness.js';
import { loadState, UnknownFormatError, type LoadedState } from './log-loader.js';
import type { ReaderStop } from './log-reader.js';
import type { RedisLogStore } from './redis-log-store.js';
import type { Storage } from '../state/storage.js';

/** What recovery tells its node. */
export interface RecoveryHooks {
  /** How long a reset waits for the live nodes' reports, in ms. */
  readonly resetWait: number;
  report(err: Error): void;
  /** The node moved to `state` (resynced or reset). */
  resumed(state: LoadedState): void;
  /** {@link Recovery.busy} changed. */
  staleChanged(): void;
}

/** The recovery paths of one node. */
export class Recovery {
  readonly #store: RedisLogStore;
  readonly #log: ClusterLog;
  readonly #state: Storage;
  readonly #hooks: RecoveryHooks;
  #running: Promise<void> | null = null;
  #again = false;
  #halted = false;
  #closed = false;

  constructor(store: RedisLogStore, log: ClusterLog, state: Storage, hooks: RecoveryHooks) {
    this.#store = store;
    this.#log = log;
    this.#state = state;
    this.#hooks = hooks;
  }

  /** Whether the node is resyncing, resetting or halted: its state may be behind. */
  get busy(): boolean {
    return this.#running !== null || this.#halted;
  }

  /** The follower stopped by itself. */
  readerStopped(why: ReaderStop): void {
    if (why.reason === 'unknown-format') {
      this.#halt(new UnknownFormatError(`log entry ${why.seq}`, why.format));
      return;
    }
    this.resync(why.reason === 'gap' ? `a gap in the log (expected entry ${why.expected}, found ${why.found})` : `entry ${why.seq} is of epoch ${why.epoch}`);
  }

  /** A heartbeat found Redis behind this node. */
  backwards(why: Backwards): void {
    if (why.reason === 'epoch-changed') this.resync(`the cluster moved to epoch ${why.epoch}`);
    else this.#start(() => this.#reset(why));
  }

  /** Resyncs from the snapshot and the log (once; a call while one runs runs it again after). */
  resync(reason: string): void {
    this.#start(async () => {
      this.#hooks.report(new Error(`resyncing from the snapshot and the log: ${reason}`));
      await this.#resync();
    });
  }

  /** Stops recovering. */
  close(): void {
    this.#closed = true;
  }

  #start(run: () => Promise<void>): void {
    if (this.#closed || this.#halted) return;
    if (this.#running !== null) {
      this.#again = true;
      return;
    }
    this.#store.stopFollowing();
    this.#running = this.#loop(run);
    this.#hooks.staleChanged();
  }

  async #loop(run: () => Promise<void>): Promise<void> {
    for (let attempt = 0; !this.#closed; attempt++) {
      this.#again = false;
      try {
        await run();
        if (!this.#again) break;
      } catch (err) {
        if (err instanceof UnknownFormatError) {
          this.#running = null;
          return this.#halt(err);
        }
        this.#hooks.report(new Error(`recovery failed, retrying: ${(err as Error).message}`, { cause: err }));
        await this.#store.links.control.whenReady().catch(() => {});
        await delay(Math.min(2000, 100 * 2 ** attempt));
      }
      run = () => this.#resync();
    }
    this.#running = null;
    this.#hooks.staleChanged();
  }

  async #resync(): Promise<void> {
    const info = await this.#store.readEpoch();
    if (info === null) return this.#reset({ reason: 'epoch-gone' });
    const before = { epoch: this.#log.epoch, seq: this.#log.seq };
    if (info.epoch === before.epoch && info.head < before.seq) return this.#reset({ reason: 'head-behind', head: info.head });
    const loaded = await loadState(this.#store, info.epoch);
    if (this.#closed) return;
    this.#log.resume(loaded.epoch, loaded.seq, loaded.value);
    if (loaded.epoch !== before.epoch) {
      this.#hooks.report(new Error(`now on epoch ${loaded.epoch} at entry ${loaded.seq}; this node had applied entry ${before.seq} of epoch ${before.epoch}, and whatever it held beyond the new epoch's value is lost`));
    }
    this.#hooks.resumed(loaded);
    this.#store.follow(loaded.epoch, loaded.seq);
  }

  /**
   * Redis went backwards: wait for the live nodes' reports, then the most
   * advanced one seeds a new epoch with its value; every node resyncs.
   */
  async #reset(why: Backwards): Promise<void> {
    const old = this.#log.epoch;
    this.#hooks.report(new Error(`Redis went backwards (${why.reason}): claiming a new epoch from the most advanced live node`));
    for (let round = 0; !this.#closed; round++) {
      await delay(this.#hooks.resetWait);
      const info = await this.#store.readEpoch();
      if (info !== null && info.epoch !== old) return this.#resync();
      const nodes = (await this.#store.liveNodes()).filter((n) => n.epoch === old);
      const best = nodes[0];
      // After a few rounds the reported best may be gone for good: then whoever is here seeds.
      if (best === undefined || best.nodeId === this.#store.nodeId || best.seq <= this.#log.seq || round >= 3) {
        await this.#store.claimEpoch(this.#state.data as JsonValue, info === null ? '' : info.epoch);
        return this.#resync();
      }
    }
  }

  #halt(err: Error): void {
    this.#halted = true;
    this.#store.stopFollowing();
    this.#hooks.report(err);
    this.#hooks.staleChanged();
  }
}
