/**
 * The seam between a {@link Storage} and the order its changes happen in.
 *
 * A storage does not change its value directly: `set()` and `remove()`
 * submit an entry of writes to its log, and the log hands entries back to
 * be applied, in its order. The log of one process ({@link LocalLog})
 * applies each entry at once, inside `submit()`; a replicated log (entries
 * appended to a shared stream and applied when read back) applies them
 * later, on every node alike. Nothing that builds or sends diffs knows
 * which log is behind a storage: it reads the storage's change record and
 * asks the log to name positions as versions.
 */
import type { InvalidArgumentError } from '../errors.js';
import type { JsonValue } from '../json.js';
import type { PathSegment } from './path.js';

/**
 * One write of an entry. Named apart from the JSON-Patch `Operation`
 * (what diffs carry): a write follows the storage's own rules (missing
 * containers created, a primitive in the way replaced), which a patch
 * operation does not.
 */
export type StateWrite =
  // `path` is checked (as normalizePath returns it) and kept by the storage's change record: never changed after.
  | { readonly kind: 'set'; readonly path: readonly PathSegment[]; readonly value: JsonValue }
  | { readonly kind: 'remove'; readonly path: readonly PathSegment[] };

/** Writes applied and committed as one: one commit, one round of `onChange` callbacks, one version step. */
export type StateEntry = readonly StateWrite[];

/**
 * What applying an entry did: `null` when every write applied (the common
 * case, so nothing is allocated for it); else one slot per write, `null`
 * for a write that applied and the error for one that was skipped because
 * a local `set()`/`remove()` would have thrown on it at that moment.
 */
export type EntryOutcome = readonly (InvalidArgumentError | null)[] | null;

/** What a log drives: the storage that applies its entries. */
export interface LogTarget {
  /**
   * Applies one entry in place, deterministically: each write follows the
   * storage's rules, and a write that would throw is skipped and reported
   * in the outcome while the rest of the entry still applies.
   */
  apply(entry: StateEntry): EntryOutcome;
  /** The change-record position after the last applied entry (an entry boundary). */
  readonly position: number;
}

/**
 * How a log names positions of its change record as state versions
 * (`docs/protocol.md`, "Resume by version"). The local log uses its random
 * id and the position; a replicated log uses its own scheme (an epoch and a
 * sequence number), so that the same value has the same version everywhere.
 */
export interface VersionScheme {
  /** The version naming `position` (an entry boundary). */
  format(position: number): string;
  /** The position `version` names, if it is a version of this log in canonical form; else `undefined`. */
  parse(version: string): number | undefined;
}

/** A value and the log position it is the value at: where a log starts. */
export interface LogSnapshot {
  readonly value: JsonValue;
  /** A non-negative safe integer: the first version is this position. */
  readonly position: number;
}

/**
 * A log of state entries. A {@link Storage} opens it once, submits every
 * write to it, and applies what it delivers.
 *
 * @typeParam Submitted what `submit()` returns: nothing for the local log,
 *   which has applied the entry when it returns (or thrown); a promise for
 *   a log that applies entries when they come back from elsewhere.
 */
export interface StateLog<Submitted = unknown> {
  /** The names of positions. */
  readonly versions: VersionScheme;
  /**
   * Connects the storage that applies this log's entries, and tells it
   * where to start: its initial value and position. Called once, by the
   * storage's constructor (the log need not keep the value after).
   * @throws Error when the log is already open
   */
  open(target: LogTarget): LogSnapshot;
  /** Submits one entry of writes, to be applied in the log's order. */
  submit(entry: StateEntry): Submitted;
  /**
   * True for a replicated log: a client may bring a version another node
   * sent, so resume accepts any entry boundary the change record holds, not
   * only versions within `historySize` sent here (the log keeps the record
   * for its own retention). Absent: false.
   */
  readonly resumeFromAnyBoundary?: boolean;
}

/** The first error of an outcome, or undefined when every write applied. */
export function firstRejection(outcome: EntryOutcome): InvalidArgumentError | undefined {
  if (outcome === null) return undefined;
  for (const err of outcome) if (err !== null) return err;
  return undefined;
}
