/**
 * Versions of the cluster's state: `<epoch>.<seq>`, named by the log, so
 * the same value has the same version on every node and after a node
 * restarts. A node's change record counts its own positions, so this maps
 * the log's sequence numbers to them as entries are applied. An entry that
 * changes nothing leaves the position where it was: the later sequence
 * number then names it (the version advances, nothing is sent).
 *
 * The map is bounded: it keeps the last `limit` entries' pairs, which is
 * more than the change record holds diffs for; an older sequence names
 * nothing here (the client then gets the whole value).
 */
import type { VersionScheme } from '../state/state-log.js';

/** The version scheme of one node's cluster state. */
export class ClusterVersions implements VersionScheme {
  #epoch = '';
  // Parallel and ascending: seqs[i] was applied when the change record stood at positions[i].
  #seqs: number[] = [];
  #positions: number[] = [];
  readonly #limit: number;
  // The entry being applied: a flush from inside its commit (autoflushDelay 0) names its version already.
  #applying = -1;

  /** @param limit how many entries' pairs to keep */
  constructor(limit = 100_000) {
    this.#limit = limit;
  }

  /** The epoch whose versions these are. */
  get epoch(): string {
    return this.#epoch;
  }

  /** The last sequence number noted. */
  get seq(): number {
    return this.#seqs.length === 0 ? 0 : this.#seqs[this.#seqs.length - 1]!;
  }

  /**
   * Moves to `epoch` (a new epoch after a reset): versions of another epoch
   * name nothing from now on. In the same epoch (a resync) the pairs
   * already noted stay: diffs from them are still exact.
   */
  restart(epoch: string): void {
    if (epoch === this.#epoch) return;
    this.#epoch = epoch;
    this.#seqs = [];
    this.#positions = [];
  }

  /** Entry `seq` is about to be applied: positions past the last noted one are its. */
  applying(seq: number): void {
    this.#applying = seq;
  }

  /** Notes that entry `seq` has been applied, leaving the change record at `position`. */
  note(seq: number, position: number): void {
    this.#applying = -1;
    this.#seqs.push(seq);
    this.#positions.push(position);
    if (this.#seqs.length > this.#limit * 2) {
      this.#seqs = this.#seqs.slice(-this.#limit);
      this.#positions = this.#positions.slice(-this.#limit);
    }
  }

  format(position: number): string {
    // The newest sequence number at or before `position`: flushed positions are always noted ones.
    const positions = this.#positions;
    if (this.#applying >= 0 && (positions.length === 0 || position > positions[positions.length - 1]!)) return `${this.#epoch}.${this.#applying}`;
    let lo = 0;
    let hi = positions.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (positions[mid]! <= position) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return `${this.#epoch}.${found < 0 ? 0 : this.#seqs[found]!}`;
  }

  parse(version: string): number | undefined {
    const seq = this.seqOf(version);
    if (seq === undefined) return undefined;
    const i = indexOf(this.#seqs, seq);
    return i < 0 ? undefined : this.#positions[i];
  }

  /** The sequence number `version` names in this epoch (held here or not), else undefined. */
  seqOf(version: string): number | undefined {
    const dot = version.lastIndexOf('.');
    if (dot < 0 || version.slice(0, dot) !== this.#epoch) return undefined;
    const digits = version.slice(dot + 1);
    const seq = Number(digits);
    if (!Number.isSafeInteger(seq) || seq < 0 || String(seq) !== digits) return undefined;
    return seq;
  }
}

function indexOf(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const at = sorted[mid]!;
    if (at === value) return mid;
    if (at < value) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
