/**
 * Snapshots and trimming for one node: every `snapshotCheck` ms, a node
 * that has applied `snapshotInterval` entries past the last snapshot it
 * knows of takes (or renews) the lease and writes the value with its seq;
 * the lease holder then trims the log behind the snapshot and `retention`.
 * One holder at a time; a stopped holder loses the lease within its ttl.
 */
import type { JsonValue } from '../json.js';
import type { RedisLogStore } from './redis-log-store.js';

/** What the keeper reads of its node. */
export interface SnapshotSource {
  readonly epoch: string;
  readonly seq: number;
  readonly value: JsonValue;
  /** Whether the node holds the cluster's state now (not resyncing). */
  readonly holding: boolean;
}

/** Runs the snapshot and trim check of one node. */
export class SnapshotKeeper {
  readonly #store: RedisLogStore;
  readonly #source: SnapshotSource;
  readonly #interval: number;
  readonly #retention: number;
  readonly #onError: (err: Error) => void;
  readonly #timer: ReturnType<typeof setInterval>;
  /** The seq of the newest snapshot this node knows of. */
  #snapshotSeq: number;
  #running = false;

  /**
   * @param snapshotSeq the seq of the snapshot the node loaded
   * @param every how often (ms) to check
   */
  constructor(store: RedisLogStore, source: SnapshotSource, options: { snapshotInterval: number; retention: number; every: number; snapshotSeq: number; onError(err: Error): void }) {
    this.#store = store;
    this.#source = source;
    this.#interval = options.snapshotInterval;
    this.#retention = options.retention;
    this.#onError = options.onError;
    this.#snapshotSeq = options.snapshotSeq;
    this.#timer = setInterval(() => void this.check(), options.every);
    this.#timer.unref();
  }

  /** The node resynced: the snapshot it loaded is at `seq`. */
  reset(seq: number): void {
    this.#snapshotSeq = seq;
  }

  /** One check (the timer's); resolves when done. Never rejects. */
  async check(): Promise<void> {
    const source = this.#source;
    if (this.#running || !source.holding || !this.#store.connected) return;
    this.#running = true;
    try {
      const due = source.seq - this.#snapshotSeq >= this.#interval;
      if (!due) {
        // Trimming behind retention goes on between snapshots, by the holder only.
        if (await this.#store.acquireLease()) await this.#store.trim(this.#retention);
        return;
      }
      if (!(await this.#store.acquireLease()) || !source.holding) return;
      // Seq and value are read together, synchronously: the value is the one at that seq.
      const seq = source.seq;
      const written = await this.#store.writeSnapshot(source.epoch, seq, source.value);
      if (written.status === 'written') this.#snapshotSeq = seq;
      else if (written.status === 'older') this.#snapshotSeq = written.seq;
      await this.#store.trim(this.#retention);
    } catch (err) {
      // Redis down: the links report it; a script error is worth a line.
      if (this.#store.connected) this.#onError(new Error(`snapshot or trim failed: ${(err as Error).message}`, { cause: err }));
    } finally {
      this.#running = false;
    }
  }

  /** Stops the timer. */
  close(): void {
    clearInterval(this.#timer);
  }
}
