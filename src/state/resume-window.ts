/**
 * Which versions a returning client may resume from (`docs/protocol.md`,
 * "Resume by version"). The window remembers the last few positions whose
 * versions were sent and keeps the change record from the oldest of them
 * on; any entry boundary from there to the last flush is accepted, not only
 * the versions this process happened to send (a replicated log's nodes
 * flush at different moments, so a client may bring a version another node
 * sent). A position inside an entry is never accepted.
 */
import type { ChangeLog, LogCursor } from './change-log.js';

/**
 * The resume window of one change record.
 *
 * @example
 * const window = new ResumeWindow(changes, 64)
 * window.sent(changes.head)             // a version went out to a client
 * window.accepts(position, flushed)     // may a client resume from position?
 */
export class ResumeWindow {
  readonly #changes: ChangeLog;
  readonly #size: number;
  readonly #positions: number[] = [];
  #cursor: LogCursor | null = null;

  readonly #anyBoundary: boolean;

  /**
   * @param size how many sent versions the window spans; 0 keeps none (only the current version resumes)
   * @param anyBoundary accept any entry boundary the record holds (a replicated log, which keeps the record itself)
   */
  constructor(changes: ChangeLog, size: number, anyBoundary = false) {
    this.#changes = changes;
    this.#size = size;
    this.#anyBoundary = anyBoundary;
  }

  /** Remembers `position` as sent. Positions not beyond the latest remembered one are ignored. */
  sent(position: number): void {
    const positions = this.#positions;
    if (this.#size === 0 || (positions.length > 0 && positions[positions.length - 1]! >= position)) return;
    positions.push(position);
    if (positions.length > this.#size) positions.shift();
    const oldest = positions[0]!;
    if (this.#cursor === null) this.#cursor = this.#changes.openCursor(oldest);
    else if (this.#cursor.position < oldest) this.#cursor.advance(oldest);
  }

  /**
   * Whether a diff from `position` to `flushed` may be sent: `position` is
   * an entry boundary the record still holds, between the oldest
   * remembered version and `flushed`.
   */
  accepts(position: number, flushed: number): boolean {
    const positions = this.#positions;
    if (this.#anyBoundary) return position <= flushed && this.#changes.isBoundary(position);
    if (positions.length === 0 || position < positions[0]! || position > flushed) return false;
    return this.#changes.isBoundary(position);
  }

  /** Forgets everything and releases the change record. Safe to call twice. */
  close(): void {
    this.#positions.length = 0;
    this.#cursor?.close();
    this.#cursor = null;
  }
}
