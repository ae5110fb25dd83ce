/**
 * Steps into a stored JSON tree as {@link Storage} takes them: own
 * properties only (never through a prototype), bounded array padding, and
 * the ownership bookkeeping's development-only switch.
 */
import { InvalidArgumentError } from '../errors.js';
import type { JsonValue } from '../json.js';
import type { PathSegment } from './path.js';

/** An object or array of a stored value. */
export type Container = JsonValue[] | { [key: string]: JsonValue };

/** The own child of `node` at `segment`, or undefined. Never reads through a prototype. */
export function childOf(node: JsonValue | undefined, segment: PathSegment): JsonValue | undefined {
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
export function ownChild(object: { [key: string]: JsonValue }, key: string): JsonValue | undefined {
  const value = object[key];
  if (value === undefined) return undefined;
  if (typeof value === 'function' || key === '__proto__') return Object.hasOwn(object, key) ? value : undefined;
  return value;
}

/** Sets an own data property; `__proto__` through defineProperty, so no prototype is ever replaced. */
export function writeKey(object: { [key: string]: JsonValue }, key: string, value: JsonValue): void {
  if (key === '__proto__') Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
  else object[key] = value;
}

/**
 * The most nulls one set() may pad an array with. A path can come from a
 * client's request: `set(['list', 1e9], v)` must be an error, not a billion
 * nulls.
 */
export const MAX_ARRAY_PADDING = 10_000;

export function checkPadding(nulls: number, depth: number): void {
  if (nulls > MAX_ARRAY_PADDING) {
    throw new InvalidArgumentError(`path[${depth}]`, `an index at most ${MAX_ARRAY_PADDING} past the end of the array`, nulls);
  }
}

/**
 * Whether set() refuses objects and arrays the storage holds or held (the
 * `s.set('b', s.get('a'))` misuse, a silent desync otherwise). The
 * bookkeeping is a WeakSet entry per container, about a microsecond per
 * set() and garbage-collector work: worth it in development, where it
 * catches the mistake, not in production (NODE_ENV=production), as README's "State"
 * section says.
 */
export const TRACK_OWNERSHIP = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.NODE_ENV !== 'production';

/** Stands in for the WeakSet when ownership is not tracked. */
export const UNTRACKED = { has: () => false, add: () => UNTRACKED, delete: () => false } as unknown as WeakSet<object>;
