/**
 * A client resuming on a node that is behind its version (docs/cluster.md,
 * "Resume on any node"): it came from a node that had applied more, and
 * this node's reader is a moment behind. Rather than send the whole value
 * at once, the resume waits, bounded by `resumeWait`, for this node to
 * apply that version; then the diff is exact. Past the bound, or when the
 * epoch changed meanwhile, the join goes ahead and the version names
 * nothing here: the client gets the whole value, never an older value
 * under a newer version.
 */

/** Where the node stands: the epoch and the last sequence number it applied. */
export interface AppliedPosition {
  readonly epoch: string;
  readonly seq: number;
  /** The sequence number `version` names in the current epoch, else undefined (`ClusterVersions.seqOf`). */
  seqOf(version: string): number | undefined;
}

interface Waiter {
  readonly epoch: string;
  readonly seq: number;
  readonly done: () => void;
}

/** The resumes waiting for this node to apply their version. */
export class CatchUp {
  readonly #position: AppliedPosition;
  readonly #bound: number;
  readonly #waiters = new Set<Waiter>();

  /**
   * @param position what the node applied (read when needed)
   * @param bound how long (ms) a resume waits at most; 0 never waits
   */
  constructor(position: AppliedPosition, bound: number) {
    this.#position = position;
    this.#bound = bound;
  }

  /** Resumes waiting now. */
  get waiting(): number {
    return this.#waiters.size;
  }

  /**
   * Null when the node can answer a resume from `version` now (it applied
   * it, or the version is of another epoch and names nothing here); else a
   * promise that resolves (never rejects) once the node applied it, the
   * epoch changed, or `bound` ms passed.
   *
   * @example
   * const waiting = catchUp.wait('3f2a.120'); // null, or wait before joining
   */
  wait(version: string): Promise<void> | null {
    const seq = this.#position.seqOf(version);
    if (this.#bound === 0 || seq === undefined) return null;
    return this.until(seq, this.#bound);
  }

  /**
   * Null when the node applied entry `seq` of its epoch already; else a
   * promise that resolves (never rejects) once it did, the epoch changed,
   * the node closed, or `bound` ms passed. What {@link CatchUp.wait} and a
   * starting node (it waits for the log's head) wait on.
   */
  until(seq: number, bound: number): Promise<void> | null {
    const at = this.#position;
    if (seq <= at.seq) return null;
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => waiter.done(), bound);
      const waiter: Waiter = {
        epoch: at.epoch,
        seq,
        done: () => {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          resolve();
        },
      };
      this.#waiters.add(waiter);
    });
  }

  /** The node applied entries or moved to another epoch: resumes it now holds go ahead. */
  check(): void {
    if (this.#waiters.size === 0) return;
    const at = this.#position;
    for (const waiter of this.#waiters) {
      if (waiter.epoch !== at.epoch || waiter.seq <= at.seq) waiter.done();
    }
  }

  /** Lets every waiting resume go ahead (the node closes). */
  close(): void {
    for (const waiter of this.#waiters) waiter.done();
  }
}
