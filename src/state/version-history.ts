/**
 * State versions (PROTOCOL.md, "Resume by version"): a version names a
 * value of one storage as `<log id>.<position>`, so a version from another
 * storage, or from before a restart, never matches. The history remembers
 * the last few versions sent, and keeps the change log from the oldest of
 * them on, so a client that comes back with one gets a diff.
 */
import type { ChangeLog, LogCursor } from './change-log.js';

/** The version naming `position` of `log`. */
export function formatVersion(log: ChangeLog, position: number): string {
  return log.id + '.' + position;
}

/**
 * The position a version names, if it is a version of `log` (in canonical
 * form: no leading zeros, no exponent); else `undefined`.
 */
export function parseVersion(log: ChangeLog, version: string): number | undefined {
  const dot = version.lastIndexOf('.');
  if (dot < 0 || version.slice(0, dot) !== log.id) return undefined;
  const digits = version.slice(dot + 1);
  const position = Number(digits);
  if (!Number.isSafeInteger(position) || position < 0 || String(position) !== digits) return undefined;
  return position;
}

/**
 * The last `size` positions whose versions were sent, in ascending order,
 * with a log cursor at the oldest so the log keeps what a diff from it needs.
 */
export class VersionHistory {
  readonly #log: ChangeLog;
  readonly #size: number;
  readonly #positions: number[] = [];
  #cursor: LogCursor | null = null;

  /** @param size how many versions to remember; 0 remembers none */
  constructor(log: ChangeLog, size: number) {
    this.#log = log;
    this.#size = size;
  }

  /** Remembers `position` as sent. Positions not beyond the latest remembered one are ignored. */
  remember(position: number): void {
    const positions = this.#positions;
    if (this.#size === 0 || (positions.length > 0 && positions[positions.length - 1]! >= position)) return;
    positions.push(position);
    if (positions.length > this.#size) positions.shift();
    const oldest = positions[0]!;
    if (this.#cursor === null) this.#cursor = this.#log.openCursor(oldest);
    else if (this.#cursor.position < oldest) this.#cursor.advance(oldest);
  }

  /** Whether `position` is one of the remembered versions. */
  has(position: number): boolean {
    return this.#positions.includes(position);
  }

  /** Forgets everything and releases the log. Safe to call twice. */
  close(): void {
    this.#positions.length = 0;
    this.#cursor?.close();
    this.#cursor = null;
  }
}
