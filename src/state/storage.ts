/**
 * `Storage`: the JSON value a server shares with its clients (README,
 * "State"). Built so that a change costs time in proportion to the change,
 * never to the size of the state or of a wide object on its path: values
 * are changed in place, and each change is recorded in the storage's
 * {@link ChangeLog} while it is applied (its value is encoded once, in a
 * batch, when the next diff is built). The sync layer builds diffs from
 * that record; nothing is ever copied, compared or scanned whole.
 *
 * Writes go through the storage's {@link StateLog}: `set()` and `remove()`
 * submit an entry, and the log hands entries back to be applied (the local
 * log at once). Applying has one door, `#change`, that guards, writes and
 * records every in-place change; the entry is committed as one.
 */
import { InvalidArgumentError } from '../errors.js';
import type { JsonValue } from '../json.js';
import { adoptValue } from './adopt-value.js';
import { ChangeLog, type ChangeLogOptions } from './change-log.js';
import { LocalLog } from './local-log.js';
import { normalizePath, type Path, type PathSegment } from './path.js';
import type { CheckedPath, UntypedPath, ValueAt } from './typed-path.js';
import { checkPadding, childOf, ownChild, TRACK_OWNERSHIP, UNTRACKED, writeKey, type Container } from './json-node.js';
import { reportCallbackError } from './report-error.js';
export { MAX_ARRAY_PADDING } from './json-node.js';
import type { EntryOutcome, LogTarget, StateEntry, StateLog, StateWrite } from './state-log.js';

/** Options of a {@link Storage} beyond its initial value. */
export interface StorageOptions {
  /** Bounds of the change record kept for clients that lag behind; see {@link ChangeLogOptions}. */
  log?: ChangeLogOptions;
}

/** Called after every change with the storage's current value (live, read-only). */
export type ChangeListener<T = JsonValue> = (data: T) => void;

/** What the state layer reaches behind a storage; never exported from the package. */
interface StorageInternals {
  readonly changes: ChangeLog;
  readonly log: StateLog;
}

let internals: (storage: Storage) => StorageInternals;
// Set by storageOnLog() for the constructor it calls, and taken by that constructor.
let openingLog: StateLog | null = null;

/**
 * A JSON value behind a small API, whose changes are recorded for sync.
 *
 * Live values: {@link Storage.data} and {@link Storage.get} return the
 * storage's own objects and arrays, not copies. They are read-only to the
 * caller and change under later `set()` and `remove()` calls; clone them
 * (`structuredClone`) for a snapshot. Writing into them is a misuse that
 * would leave clients out of sync; the common form of it, handing such an
 * object back to `set()`, is detected and refused.
 *
 * Ownership: a value passed to `set()` (or the constructor) belongs to the
 * storage from then on; the caller must not change it afterwards, and
 * cannot pass it (or any object inside it) to `set()` again, even after it
 * was removed.
 *
 * Keys `__proto__`, `constructor` and `prototype` are ordinary data keys:
 * they are read and written as own properties, never touching a prototype.
 *
 * @example
 * const state = new Storage({ plant: { pumps: {} } })
 * const stop = state.onChange((data) => render(data))
 * state.set(['plant', 'pumps', 'p1'], { on: true, rpm: 1450 })
 * state.set(['plant', 'alarms', 0], 'low pressure') // creates plant.alarms = ['low pressure']
 * state.get(['plant', 'pumps', 'p1', 'rpm'])         // 1450
 * state.remove(['plant', 'pumps', 'p1'])
 * stop()
 *
 * Typed: `new Storage<Plant>(initial)` checks paths and values against
 * `Plant` where TypeScript can follow them (README, "Types"); the default
 * is untyped (`JsonValue`).
 */
export class Storage<T = JsonValue> {
  #root: JsonValue;
  readonly #owned: WeakSet<object> = TRACK_OWNERSHIP ? new WeakSet<object>() : UNTRACKED;
  readonly #log: StateLog;
  readonly #changes: ChangeLog;
  #listeners: readonly ChangeListener<any>[] = [];
  // Whether the entry being applied changed anything: then it is committed.
  #dirty = false;
  // The local log applies at once: set() and remove() apply as its submit() would.
  readonly #local: boolean;

  static {
    internals = (storage: Storage<any>) => ({ changes: storage.#changes, log: storage.#log });
  }

  /**
   * @param initial the starting value; it belongs to the storage afterwards
   * @throws InvalidArgumentError when `initial` is not JSON (see {@link Storage.set})
   */
  constructor(initial: NoInfer<T> = null as NoInfer<T>, options: StorageOptions = {}) {
    const log = openingLog ?? new LocalLog();
    openingLog = null;
    const target: LogTarget = {
      apply: (entry) => this.#applyEntry(entry),
      get position() {
        return changes.head;
      },
    };
    const snapshot = log.open(target);
    const changes = new ChangeLog(options.log, snapshot.position);
    this.#root = adoptValue(log instanceof LocalLog && snapshot.value === null ? (initial as JsonValue) : snapshot.value, this.#owned, 'initial');
    this.#log = log;
    this.#local = log instanceof LocalLog;
    this.#changes = changes;
  }

  /** The current value: live and read-only (see the class comment). */
  get data(): T {
    return this.#root as T;
  }

  /**
   * The value at `path` (live and read-only), or `undefined` when nothing is
   * there. A number step on an object reads the key of that name; a string
   * step on an array finds nothing.
   * @throws InvalidArgumentError for an invalid path
   */
  get(path: UntypedPath<T>): JsonValue | undefined;
  /** A typed storage: `path` is checked against `T` and the result has the type found there. */
  get<const P extends Path = readonly []>(path?: P & CheckedPath<T, P>): ValueAt<T, P> | undefined;
  get(path: Path = []): JsonValue | undefined {
    const segments = normalizePath(path);
    let node: JsonValue | undefined = this.#root;
    for (const segment of segments) {
      node = childOf(node, segment);
      if (node === undefined) return undefined;
    }
    return node;
  }

  /**
   * Puts `value` at `path`. Missing containers on the way are created (an
   * object for a string step, an array for a number step); an index past an
   * array's end pads it with `null`; a non-container in the way is replaced.
   * Setting a primitive equal to the one already there changes nothing and
   * calls no listener.
   *
   * @param value JSON: it belongs to the storage afterwards
   * @throws InvalidArgumentError for an invalid path, a string step into an
   *   existing array, or a value that is not JSON as a client would receive
   *   it (`undefined`, a function, a BigInt, a non-finite number, a `Date`,
   *   a `Map` or any non-plain object, a frozen container, a cycle, an object
   *   or array appearing twice, or one the storage holds or held). Nothing
   *   changes when it throws.
   */
  set(path: UntypedPath<T>, value: JsonValue): void;
  /** A typed storage: `path` is checked against `T` and `value` must have the type found there. */
  set<const P extends Path>(path: P & CheckedPath<T, P>, value: ValueAt<T, P>): void;
  set(path: Path, value: JsonValue): void {
    const segments = normalizePath(path);
    if (this.#local) this.#applyNow(false, segments, value);
    else this.#log.submit([{ kind: 'set', path: segments, value }]);
  }

  /**
   * Removes what is at `path`: a key from its object, or an element from its
   * array (later elements move down). Removing the root sets the value to
   * `null`. A missing path is a no-op: nothing is recorded, no listener runs.
   * @throws InvalidArgumentError for an invalid path
   */
  remove(path: UntypedPath<T>): void;
  /** A typed storage: `path` is checked against `T`. */
  remove<const P extends Path>(path: P & CheckedPath<T, P>): void;
  remove(path: Path): void {
    const segments = normalizePath(path);
    if (this.#local) this.#applyNow(true, segments, null);
    else this.#log.submit([{ kind: 'remove', path: segments }]);
  }

  /**
   * Calls `callback` synchronously after every change, with the current
   * value (live, read-only). A callback that throws is reported with
   * `console.error` and does not stop the change or the other callbacks.
   * @returns a function that unregisters the callback (safe to call twice)
   * @throws InvalidArgumentError when `callback` is not a function
   */
  onChange(callback: ChangeListener<T>): () => void {
    if (typeof callback !== 'function') throw new InvalidArgumentError('callback', 'a function', callback);
    // Copy on change: a callback that unregisters (or registers) during a change does not disturb the loop.
    this.#listeners = [...this.#listeners, callback];
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== callback);
    };
  }

  /**
   * What the local log's submit() does with an entry of one write, without
   * building the entry: a `set()` is the hot path of a busy state, and the
   * two objects per call showed in its cost.
   */
  #applyNow(remove: boolean, segments: readonly PathSegment[], value: JsonValue): void {
    try {
      if (remove) this.#remove(segments);
      else this.#set(segments, value);
    } finally {
      if (this.#dirty) this.#commit();
    }
  }

  /** Applies one entry from the log: each write by the rules of set() and remove(), then one commit. */
  #applyEntry(entry: StateEntry): EntryOutcome {
    let outcome: (InvalidArgumentError | null)[] | null = null;
    try {
      for (let i = 0; i < entry.length; i++) {
        const write: StateWrite = entry[i]!;
        try {
          if (write.kind === 'set') this.#set(write.path, write.value);
          else this.#remove(write.path);
        } catch (err) {
          // Every refusal is checked before anything changes; anything else is a bug and goes on up.
          if (!(err instanceof InvalidArgumentError)) throw err;
          (outcome ??= new Array<InvalidArgumentError | null>(entry.length).fill(null))[i] = err;
        }
      }
    } finally {
      if (this.#dirty) this.#commit();
    }
    return outcome;
  }

  #set(segments: readonly PathSegment[], value: JsonValue): void {
    // Find where the change lands before touching anything, so a bad path throws with nothing changed.
    let parent: Container | null = null;
    let node: JsonValue = this.#root;
    let objectPath = true;
    let depth = 0;
    for (; depth < segments.length; depth++) {
      const segment = segments[depth]!;
      if (Array.isArray(node)) {
        if (typeof segment === 'string') {
          throw new InvalidArgumentError(`path[${depth}]`, 'a non-negative integer, as the value there is an array', segment);
        }
        objectPath = false;
        if (segment >= node.length) {
          checkPadding(segment - node.length, depth);
          break;
        }
        parent = node;
        node = node[segment]!;
      } else if (node !== null && typeof node === 'object') {
        const next = ownChild(node, typeof segment === 'string' ? segment : String(segment));
        if (next === undefined) break;
        parent = node;
        node = next;
      } else {
        break;
      }
    }
    // Fresh arrays below the landing point are padded up to their index too.
    for (let i = depth + 1; i < segments.length; i++) {
      const segment = segments[i]!;
      if (typeof segment === 'number') checkPadding(segment, i);
    }
    const adopted = adoptValue(value, this.#owned, 'value');

    if (depth === segments.length) {
      // The location exists: overwrite it in place.
      // Only primitives can be equal here: adoptValue refuses containers the storage holds.
      if (adopted === node) return;
      this.#change(parent, segments[depth - 1], PUT, adopted, segments, objectPath, true);
    } else if (node !== null && typeof node === 'object') {
      // `node` is a container missing segments[depth]: add the rest below it.
      const built = this.#build(segments, depth + 1, adopted);
      const segment = segments[depth]!;
      if (Array.isArray(node)) {
        const index = segment as number;
        const at = segments.slice(0, depth + 1);
        for (let i = node.length; i < index; i++) {
          at[depth] = i;
          this.#change(node, i, PUSH, null, at.slice(), false, false);
        }
        at[depth] = index;
        this.#change(node, index, PUSH, built, at, false, false);
      } else {
        this.#change(node, segment, PUT, built, segments.slice(0, depth + 1), objectPath, false);
      }
    } else {
      // A primitive (or null) is in the way at segments[0..depth): replace it with new containers.
      const built = this.#build(segments, depth, adopted);
      this.#change(parent, segments[depth - 1], PUT, built, segments.slice(0, depth), objectPath, true);
    }
  }

  #remove(segments: readonly PathSegment[]): void {
    if (segments.length === 0) {
      if (this.#root !== null) this.#change(null, undefined, PUT, null, segments, true, true);
      return;
    }
    let node: JsonValue | undefined = this.#root;
    let objectPath = true;
    const last = segments.length - 1;
    for (let depth = 0; depth < last && node !== undefined; depth++) {
      if (Array.isArray(node)) objectPath = false;
      node = childOf(node, segments[depth]!);
    }
    const segment = segments[last]!;
    if (Array.isArray(node)) {
      if (typeof segment === 'number' && segment < node.length) this.#change(node, segment, SPLICE, undefined, segments, false, true);
    } else if (node !== null && typeof node === 'object') {
      if (Object.hasOwn(node, typeof segment === 'string' ? segment : String(segment))) this.#change(node, segment, DELETE, undefined, segments, objectPath, true);
    }
  }

  /**
   * The one door for in-place changes: the guard (values still waiting to
   * be encoded are encoded first if this change could be inside one), the
   * write and the record always go together, and the entry is marked for
   * its commit. `container` null means the root.
   */
  #change(
    container: Container | null,
    key: PathSegment | undefined,
    how: Write,
    value: JsonValue | undefined,
    path: readonly PathSegment[],
    objectPath: boolean,
    existed: boolean,
  ): void {
    this.#changes.beforeChange(path.length);
    if (container === null) this.#root = value!;
    else if (how === PUT) {
      if (Array.isArray(container)) container[key as number] = value!;
      else writeKey(container, typeof key === 'string' ? key : String(key), value!);
    } else if (how === PUSH) (container as JsonValue[]).push(value!);
    else if (how === SPLICE) (container as JsonValue[]).splice(key as number, 1);
    else delete (container as { [key: string]: JsonValue })[typeof key === 'string' ? key : String(key)];
    this.#changes.record(path, objectPath, how === SPLICE || how === DELETE ? 'remove' : 'set', existed, value);
    this.#dirty = true;
  }

  #commit(): void {
    this.#dirty = false;
    this.#changes.commit();
    for (const listener of this.#listeners) {
      try {
        listener(this.#root);
      } catch (err) {
        reportCallbackError('a Storage onChange callback', err);
      }
    }
  }

  /** Wraps `value` in new containers for segments[from..]: `['b', 2]` around `v` gives `{ b: [null, null, v] }`. */
  #build(segments: readonly PathSegment[], from: number, value: JsonValue): JsonValue {
    for (let i = segments.length - 1; i >= from; i--) {
      const segment = segments[i]!;
      let container: Container;
      if (typeof segment === 'string') {
        container = {};
        writeKey(container, segment, value);
      } else {
        container = new Array<JsonValue>(segment + 1).fill(null);
        container[segment] = value;
      }
      this.#owned.add(container);
      value = container;
    }
    return value;
  }
}

/** How {@link Storage} `#change` writes: at a key or index, appended, spliced out, deleted. */
type Write = typeof PUT | typeof PUSH | typeof SPLICE | typeof DELETE;
const PUT = 0;
const PUSH = 1;
const SPLICE = 2;
const DELETE = 3;

/**
 * The change record of `storage`, which the sync layer builds diffs from.
 * Internal to the state layer: not part of the package's API.
 */
export function changeLogOf(storage: Storage): ChangeLog {
  return internals(storage).changes;
}

/** The log `storage` writes to and applies from. Internal to the state layer. */
export function stateLogOf(storage: Storage): StateLog {
  return internals(storage).log;
}

/**
 * A storage whose writes go through `log` and whose value and first
 * version come from the log's snapshot. Internal to the state layer.
 *
 * @example
 * const storage = storageOnLog(new LocalLog({ value: { a: 1 }, position: 40 }))
 * @throws InvalidArgumentError when the snapshot's value is not JSON
 */
export function storageOnLog(log: StateLog, options: StorageOptions = {}): Storage {
  return new Storage(openOn(log), options);
}

/**
 * For a subclass whose storage lives on `log` (the cluster's state):
 * `super(openOn(log), options)` opens the next constructed storage on it.
 * Returns the `initial` to pass on (ignored: the log's snapshot wins).
 * Internal to the library.
 */
export function openOn(log: StateLog): null {
  openingLog = log;
  return null;
}
