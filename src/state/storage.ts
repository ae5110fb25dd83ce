/**
 * `Storage`: the JSON value a server shares with its clients (API.md,
 * "State: Storage"). Built so that a change costs time in proportion to
 * the change, never to the size of the state or of a wide object on its
 * path: values are changed in place, and each change is recorded in the
 * storage's {@link ChangeLog} while it is applied (its value is encoded
 * once, in a batch, when the next diff is built). The sync layer builds
 * diffs from that record; nothing is ever copied, compared or scanned whole.
 */
import { InvalidArgumentError } from '../errors.js';
import type { JsonValue } from '../json.js';
import { adoptValue } from './adopt-value.js';
import { ChangeLog, type ChangeLogOptions } from './change-log.js';
import { normalizePath, type Path, type PathSegment } from './path.js';
import { reportCallbackError } from './report-error.js';

/** Options of a {@link Storage} beyond its initial value. */
export interface StorageOptions {
  /** Bounds of the change record kept for clients that lag behind; see {@link ChangeLogOptions}. */
  log?: ChangeLogOptions;
}

/** Called after every change with the storage's current value (live, read-only). */
export type ChangeListener = (data: JsonValue) => void;

type Container = JsonValue[] | { [key: string]: JsonValue };

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
 */
export class Storage {
  #root: JsonValue;
  readonly #owned: WeakSet<object> = TRACK_OWNERSHIP ? new WeakSet<object>() : UNTRACKED;
  readonly #log: ChangeLog;
  #listeners: readonly ChangeListener[] = [];

  /**
   * @param initial the starting value; it belongs to the storage afterwards
   * @throws InvalidArgumentError when `initial` is not JSON (see {@link Storage.set})
   */
  constructor(initial: JsonValue = null, options: StorageOptions = {}) {
    this.#root = adoptValue(initial, this.#owned, 'initial');
    this.#log = new ChangeLog(options.log);
  }

  /** The current value: live and read-only (see the class comment). */
  get data(): JsonValue {
    return this.#root;
  }

  /** The record of changes the sync layer reads. Not for application code. */
  get log(): ChangeLog {
    return this.#log;
  }

  /**
   * The value at `path` (live and read-only), or `undefined` when nothing is
   * there. A number step on an object reads the key of that name; a string
   * step on an array finds nothing.
   * @throws InvalidArgumentError for an invalid path
   */
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
  set(path: Path, value: JsonValue): void {
    const segments = normalizePath(path);
    // Find where the change lands before touching anything, so a bad path throws with nothing changed.
    let parent: Container | undefined;
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
    // Values recorded earlier are encoded lazily; any that this change could alter in place are encoded now.
    this.#log.beforeChange(segments.length);

    if (depth === segments.length) {
      // The location exists: overwrite it in place.
      // Only primitives can be equal here: adoptValue refuses containers the storage holds.
      if (adopted === node) return;
      this.#write(parent, segments, depth, adopted);
      this.#log.record(segments, objectPath, 'set', true, adopted);
    } else if (node !== null && typeof node === 'object') {
      // `node` is a container missing segments[depth]: add the rest below it.
      const built = this.#build(segments, depth + 1, adopted);
      const segment = segments[depth]!;
      if (Array.isArray(node)) {
        const index = segment as number;
        const at = segments.slice(0, depth + 1);
        for (let i = node.length; i < index; i++) {
          node.push(null);
          at[depth] = i;
          this.#log.record(at.slice(), false, 'set', false, null);
        }
        node.push(built);
        at[depth] = index;
        this.#log.record(at, false, 'set', false, built);
      } else {
        writeKey(node, typeof segment === 'string' ? segment : String(segment), built);
        this.#log.record(segments.slice(0, depth + 1), objectPath, 'set', false, built);
      }
    } else {
      // A primitive (or null) is in the way at segments[0..depth): replace it with new containers.
      const built = this.#build(segments, depth, adopted);
      this.#write(parent, segments, depth, built);
      this.#log.record(segments.slice(0, depth), objectPath, 'set', true, built);
    }
    this.#changed();
  }

  /**
   * Removes what is at `path`: a key from its object, or an element from its
   * array (later elements move down). Removing the root sets the value to
   * `null`. A missing path is a no-op: nothing is recorded, no listener runs.
   * @throws InvalidArgumentError for an invalid path
   */
  remove(path: Path): void {
    const segments = normalizePath(path);
    if (segments.length === 0) {
      if (this.#root === null) return;
      this.#root = null;
      this.#log.record(segments, true, 'set', true, null);
      this.#changed();
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
      if (typeof segment !== 'number' || segment >= node.length) return;
      this.#log.beforeChange(segments.length);
      node.splice(segment, 1);
      objectPath = false;
    } else if (node !== null && typeof node === 'object') {
      const key = typeof segment === 'string' ? segment : String(segment);
      if (!Object.hasOwn(node, key)) return;
      this.#log.beforeChange(segments.length);
      delete node[key];
    } else {
      return;
    }
    this.#log.record(segments, objectPath, 'remove', true, undefined);
    this.#changed();
  }

  /**
   * Calls `callback` synchronously after every change, with the current
   * value (live, read-only). A callback that throws is reported with
   * `console.error` and does not stop the change or the other callbacks.
   * @returns a function that unregisters the callback (safe to call twice)
   * @throws InvalidArgumentError when `callback` is not a function
   */
  onChange(callback: ChangeListener): () => void {
    if (typeof callback !== 'function') throw new InvalidArgumentError('callback', 'a function', callback);
    // Copy on change: a callback that unregisters (or registers) during a change does not disturb the loop.
    this.#listeners = [...this.#listeners, callback];
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== callback);
    };
  }

  #changed(): void {
    this.#log.commit();
    for (const listener of this.#listeners) {
      try {
        listener(this.#root);
      } catch (err) {
        reportCallbackError('a Storage onChange callback', err);
      }
    }
  }

  /** Stores `value` at segments[0..depth), whose parent is `parent` (the root when depth is 0). */
  #write(parent: Container | undefined, segments: readonly PathSegment[], depth: number, value: JsonValue): void {
    if (depth === 0) {
      this.#root = value;
      return;
    }
    const segment = segments[depth - 1]!;
    if (Array.isArray(parent)) parent[segment as number] = value;
    else writeKey(parent!, typeof segment === 'string' ? segment : String(segment), value);
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

/** The own child of `node` at `segment`, or undefined. Never reads through a prototype. */
function childOf(node: JsonValue | undefined, segment: PathSegment): JsonValue | undefined {
  if (Array.isArray(node)) return typeof segment === 'number' && segment < node.length ? node[segment] : undefined;
  if (node === null || typeof node !== 'object') return undefined;
  return ownChild(node, typeof segment === 'string' ? segment : String(segment));
}

/**
 * `object[key]` if it is an own property, else undefined: one lookup in the
 * common case, which matters on wide objects (a 10,000-key map of points is
 * a hash table, and every extra probe is a cache miss). What a JSON object
 * can inherit is a function, or the prototype itself through `__proto__`;
 * stored JSON is never a function nor `undefined`, so only those two cases
 * need the slower own-property check.
 */
function ownChild(object: { [key: string]: JsonValue }, key: string): JsonValue | undefined {
  const value = object[key];
  if (value === undefined) return undefined;
  if (typeof value === 'function' || key === '__proto__') return Object.hasOwn(object, key) ? value : undefined;
  return value;
}

/** Sets an own data property; `__proto__` through defineProperty, so no prototype is ever replaced. */
function writeKey(object: { [key: string]: JsonValue }, key: string, value: JsonValue): void {
  if (key === '__proto__') Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
  else object[key] = value;
}

/**
 * The most nulls one set() may pad an array with. A path can come from a
 * client's request: `set(['list', 1e9], v)` must be an error, not a billion
 * nulls.
 */
export const MAX_ARRAY_PADDING = 10_000;

function checkPadding(nulls: number, depth: number): void {
  if (nulls > MAX_ARRAY_PADDING) {
    throw new InvalidArgumentError(`path[${depth}]`, `an index at most ${MAX_ARRAY_PADDING} past the end of the array`, nulls);
  }
}

/**
 * Whether set() refuses objects and arrays the storage holds or held (the
 * `s.set('b', s.get('a'))` misuse, a silent desync otherwise). The
 * bookkeeping is a WeakSet entry per container, about a microsecond per
 * set() and garbage-collector work: worth it in development, where it
 * catches the mistake, not in production (NODE_ENV=production), as API.md
 * allows.
 */
const TRACK_OWNERSHIP = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.NODE_ENV !== 'production';

/** Stands in for the WeakSet when ownership is not tracked. */
const UNTRACKED = { has: () => false, add: () => UNTRACKED, delete: () => false } as unknown as WeakSet<object>;
