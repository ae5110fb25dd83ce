/**
 * Keeps a cluster node's change record for `retention` ms of log (by
 * Redis's clock), so a client may resume here from any version any node
 * sent in that time, not only from versions this node sent. The record's
 * own bounds (`maxOps`, `maxBytes`) still cap it; a version older than
 * what it holds gets the whole value.
 */
import type { ChangeLog, LogCursor } from '../state/change-log.js';

/** One checkpoint per this many ms of log time: the hold moves in steps of it. */
const STEP = 250;

/** The retention hold on one change record. */
export class RetentionHold {
  readonly #retention: number;
  readonly #cursor: LogCursor;
  // Ascending by time: [time, position] of the first entry applied in each step.
  #checkpoints: Array<[number, number]> = [];
  #head = 0;

  /** @param retention ms of log to keep */
  constructor(changes: ChangeLog, retention: number) {
    this.#retention = retention;
    this.#cursor = changes.openCursor();
  }

  /** An entry of log time `time` (ms) was applied, leaving the record at `position`. */
  applied(time: number, position: number): void {
    const checkpoints = this.#checkpoints;
    const last = checkpoints[checkpoints.length - 1];
    if (last === undefined || time - last[0] >= STEP) checkpoints.push([time, position]);
    const cut = time - this.#retention;
    let drop = this.#head;
    while (drop < checkpoints.length - 1 && checkpoints[drop + 1]![0] <= cut) drop++;
    if (drop > this.#head) {
      this.#head = drop;
      this.#cursor.advance(Math.max(this.#cursor.position, checkpoints[drop]![1]));
      if (drop > 1024) {
        this.#checkpoints = checkpoints.slice(drop);
        this.#head = 0;
      }
    }
  }

  /** Releases the record. */
  close(): void {
    this.#cursor.close();
  }
}
