/**
 * The log of one process: every entry is applied the moment it is
 * submitted, so `set()` throws synchronously on bad input with nothing
 * changed, and a change is visible as soon as `set()` returns. Versions are
 * `<log id>.<position>` with a random id per log, so a version from another
 * state, or from before a restart, never matches. (A storage on this log
 * applies a single `set()`/`remove()` as `submit()` would, without building
 * the entry: that is the hot path.)
 */
import { InvalidArgumentError } from '../errors.js';
import type { JsonValue } from '../json.js';
import { firstRejection, type LogSnapshot, type LogTarget, type StateEntry, type StateLog, type VersionScheme } from './state-log.js';

/**
 * A {@link StateLog} that applies each entry inside `submit()`.
 *
 * @example
 * const log = new LocalLog({ value: { a: 1 }, position: 40 })
 * const storage = storageOnLog(log)   // versions continue from 40
 */
export class LocalLog implements StateLog<void> {
  /** A random identity: versions from another log never match. */
  readonly id: string = randomId();
  readonly versions: VersionScheme;
  #snapshot: LogSnapshot | null;
  #target: LogTarget | null = null;

  /**
   * @param snapshot where to start (the value belongs to the storage opened on this log)
   * @throws InvalidArgumentError when the position is not a non-negative safe integer
   */
  constructor(snapshot: { value?: JsonValue; position?: number } = {}) {
    const position = snapshot.position ?? 0;
    if (!Number.isSafeInteger(position) || position < 0) throw new InvalidArgumentError('snapshot.position', 'a non-negative integer', position);
    this.#snapshot = { value: snapshot.value ?? null, position };
    this.versions = localVersions(this.id);
  }

  open(target: LogTarget): LogSnapshot {
    if (this.#target !== null || this.#snapshot === null) throw new Error('koa-juggler: a log serves one storage');
    this.#target = target;
    const snapshot = this.#snapshot;
    // The value is the storage's from now on: holding it here would keep a replaced tree alive.
    this.#snapshot = null;
    return snapshot;
  }

  /**
   * Applies `entry` now.
   * @throws InvalidArgumentError for the first write of the entry that could not apply
   *   (for an entry of one write: nothing changed)
   */
  submit(entry: StateEntry): void {
    const rejected = firstRejection(this.#target!.apply(entry));
    if (rejected !== undefined) throw rejected;
  }
}

/** `<id>.<position>`, canonical digits only (no leading zeros, no exponent). */
function localVersions(id: string): VersionScheme {
  return {
    format: (position) => id + '.' + position,
    parse(version) {
      const dot = version.lastIndexOf('.');
      if (dot < 0 || version.slice(0, dot) !== id) return undefined;
      const digits = version.slice(dot + 1);
      const position = Number(digits);
      if (!Number.isSafeInteger(position) || position < 0 || String(position) !== digits) return undefined;
      return position;
    },
  };
}

/** 64 random bits as hex, from Web Crypto (present in Node 20 and every browser, secure context or not). */
function randomId(): string {
  const bytes = new Uint8Array(8);
  globalThis.crypto.getRandomValues(bytes);
  let id = '';
  for (const byte of bytes) id += byte.toString(16).padStart(2, '0');
  return id;
}
