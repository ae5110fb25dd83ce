/**
 * The server's state as a client follows it: the value, kept by applying
 * each diff in place or as a new snapshot; its version on a koa-juggler.v1 connection; and the
 * listeners told of each change.
 */
import type { JsonValue } from '../json.js';
import { applyPatch } from '../state/apply-patch.js';
import { applyPatchSnapshot } from '../state/apply-snapshot.js';
import type { Patch } from '../state/patch.js';

/**
 * Called after each change of the remote state, with the new state and the
 * diff that made it. Both are the client's own objects: read, don't write.
 * Values inside `diff` became part of `state` without a copy, so a diff
 * kept after the call changes with later diffs: clone what you keep.
 */
export type ChangeListener<T = JsonValue> = (state: T, diff: Patch) => void;

/**
 * What `client.state`, `client.version` and `client.onChange()` are built
 * on. A diff that does not apply leaves the value as it was.
 * @internal
 */
export class RemoteState {
  #value: JsonValue = null;
  #version: string | null = null;
  readonly #listeners = new Set<ChangeListener>();
  readonly #run: (listener: ChangeListener, state: JsonValue, diff: Patch) => void;
  readonly #apply: (root: JsonValue, patch: unknown) => JsonValue;

  /**
   * @param run calls one listener, reporting what it throws
   * @param snapshots whether each diff gives a new snapshot instead of changing the value in place
   */
  constructor(run: (listener: ChangeListener, state: JsonValue, diff: Patch) => void, snapshots: boolean) {
    this.#run = run;
    this.#apply = snapshots ? applyPatchSnapshot : applyPatch;
  }

  /** The value: null until the first diff. */
  get value(): JsonValue {
    return this.#value;
  }

  /** The version of `value` (koa-juggler.v1), or null. */
  get version(): string | null {
    return this.#version;
  }

  /** Starts from `value` at `version` (resuming): the server's diffs continue from it. */
  resume(value: JsonValue, version: string): void {
    this.#value = value;
    this.#version = version;
  }

  /** Back to null without a version, as a plain connection starts (the connection turned out plain). */
  reset(): void {
    this.#value = null;
    this.#version = null;
  }

  /**
   * Registers a listener (the same function twice is two registrations).
   * @returns a function that unregisters it
   */
  listen(listener: ChangeListener): () => void {
    const entry: ChangeListener = (state, diff) => listener(state, diff);
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  /**
   * Applies one diff, records the version it leads to, then tells the listeners.
   * @throws ProtocolError when the diff does not apply; the value is left as it was
   */
  apply(diff: Patch, version: string | null): void {
    this.#value = this.#apply(this.#value, diff);
    this.#version = version;
    for (const listener of [...this.#listeners]) this.#run(listener, this.#value, diff);
  }

  /** Drops every listener (the connection is over). */
  clear(): void {
    this.#listeners.clear();
  }
}
