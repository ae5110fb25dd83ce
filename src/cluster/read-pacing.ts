/**
 * When a node reads the log and when its writes go: every read that
 * brings an entry and every append costs the node a Redis command and a
 * wake-up, far more than the entry's own work, while its clients see
 * changes only at flushes, at most every `autoflushDelay`. So entries
 * gather, both ways, within what the clients cannot tell apart
 * (docs/cluster.md, "Reading the log" and "Writing to the log"):
 *
 * - the gather window: a quarter of the smallest `autoflushDelay` of the
 *   node's servers, at most {@link MAX_READ_PAUSE} ms; 0 (no gathering)
 *   when no server with a delay listens, or with `autoflushDelay: 0`,
 *   where latency is what counts;
 * - after a read that brought entries, the reader rests for the window,
 *   or until just before the flush those entries started, whichever is
 *   later: what lands meanwhile goes out in that same flush either way;
 * - while this node keeps writing and every append's reply showed its
 *   entry next in the log (applied from the reply, nothing between), the
 *   reader rests on: the next reply shows whether another node wrote.
 *   Each such reply makes the rest last a window and a half from then, so
 *   the reader of a node that keeps writing does not wake by itself;
 *   otherwise, when a rest's time is up, it rests a window more if this
 *   node appended within the last one.
 */
import type { ReaderPacing } from './log-reader.js';

/** The longest gather window (ms): the longest rest after a read that brought entries, and the longest a node's writes linger. */
export const MAX_READ_PAUSE = 50;

/** How long (ms, at most half the window) before a due flush the read for it is sent, so its entries make that flush. */
export const READ_AHEAD = 10;

/**
 * How far past its window (in windows) a lingering batch waits for a write
 * to send it before a timer does. The reader of a node that keeps writing
 * rests the window and as much again from each reply of its own, so that
 * the next reply comes before the rest is over.
 */
export const LINGER_GRACE = 0.5;

function smallestDelay(autoflushDelays: Iterable<number | null>): number {
  let smallest = -1;
  for (const delay of autoflushDelays) {
    const d = delay ?? Infinity;
    if (smallest < 0 || d < smallest) smallest = d;
  }
  return smallest;
}

/**
 * The gather window (ms) for servers with these `autoflushDelay`s (null:
 * flushed only on request).
 * @example gatherWindow([200]) // 50
 * @example gatherWindow([100, 40]) // 10
 * @example gatherWindow([0, 200]) // 0
 */
export function gatherWindow(autoflushDelays: Iterable<number | null>): number {
  const smallest = smallestDelay(autoflushDelays);
  if (smallest <= 0) return 0;
  return Math.min(MAX_READ_PAUSE, Math.floor(smallest / 4));
}

/** What the pacing asks of its node. */
export interface PacedNode {
  /** The `autoflushDelay`s of the servers listening on the node. */
  autoflushDelays(): Iterable<number | null>;
  /**
   * Whether the log must be read at once: this node's own writes wait for
   * the reader (their reply found another node's entry before them), a
   * resume waits for a version, or the node closes.
   */
  readonly readNeeded: boolean;
  /** When (performance.now()) this node last appended. */
  readonly appendedAt: number;
  /** Whether the reader's position is the last entry the node applied (nothing applied since that it must pass over). */
  readonly readerCaughtUp: boolean;
}

/**
 * The read schedule of one node.
 *
 * @example
 * const pacing = new ReadPacing(node);
 * onApplied(() => pacing.applied(performance.now()));
 * store.pace(pacing);
 */
export class ReadPacing implements ReaderPacing {
  readonly #node: PacedNode;
  /** When the servers' flush started by the first entry applied after the previous one is due. */
  #flushDue = -Infinity;

  constructor(node: PacedNode) {
    this.#node = node;
  }

  /**
   * An entry was applied at `now`. The first one after a flush starts the
   * servers' flush timers (a throttle: later changes do not move them), so
   * the next flush is due one delay later.
   */
  applied(now: number): void {
    if (now < this.#flushDue) return;
    const delay = smallestDelay(this.#node.autoflushDelays());
    if (delay > 0 && Number.isFinite(delay)) this.#flushDue = now + delay;
  }

  /** How long (ms) to rest after a read that brought entries. */
  pause(now = performance.now()): number {
    if (this.#node.readNeeded) return 0;
    const window = gatherWindow(this.#node.autoflushDelays());
    if (window === 0) return 0;
    return Math.max(window, this.#flushDue - Math.min(READ_AHEAD, window / 2) - now);
  }

  /**
   * How long (ms) from now the rest lasts at least once this node applied
   * its own entry from its append's reply: a window and
   * {@link LINGER_GRACE} more. Its next append goes with its first write
   * after a window (docs/cluster.md, "Writing to the log"), so while it
   * keeps writing, the next reply comes before the rest is over.
   */
  restOn(): number {
    if (this.#node.readNeeded) return 0;
    return gatherWindow(this.#node.autoflushDelays()) * (1 + LINGER_GRACE);
  }

  /** How much longer (ms) to rest when a rest's time is up: a window more while this node writes and reads nothing back. */
  restMore(now = performance.now()): number {
    const node = this.#node;
    if (node.readNeeded || !node.readerCaughtUp) return 0;
    const window = gatherWindow(node.autoflushDelays());
    return window > 0 && now - node.appendedAt < window ? window : 0;
  }
}
