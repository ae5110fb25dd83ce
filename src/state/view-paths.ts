/**
 * The paths of a view (docs/views.md): what a connection sees of a shared
 * state. A view path steps through object keys only, so checking it and
 * putting a set of them in one canonical order lives here, where the
 * server, the state layer and the browser client all reach it.
 */
import { InvalidArgumentError } from '../errors.js';
import type { JsonValue } from '../json.js';
import { ownChild } from './json-node.js';

/** One view path: object keys from the root. */
export type ViewPath = readonly string[];

/** A set of view paths, as `conn.setView()` and `client.setView()` take them. */
export type ViewPaths = readonly ViewPath[];

// What canonicalView returned: handed to it again (the server canonicalizes a view when it is
// set, and the state channel when it is joined), it is returned as it is, not checked again.
// Frozen, paths and all, so that nobody (`conn.view` is public) can make it something unchecked.
const CANONICAL = new WeakSet<object>();

/**
 * Checks `paths` and returns its canonical form: each path copied, sorted,
 * duplicates and paths under another path dropped, so that two equal views
 * get one key and share their frames. `null` when the set contains the root
 * path `[]`: that view is the whole state. The result is frozen; handed
 * back to this function, it is returned at once.
 *
 * @param argument the name used in errors, e.g. `'paths'`
 * @throws InvalidArgumentError naming the bad element (an array index on
 *   the way, `paths[1][2] must be a string (an object key; a view never
 *   steps through an array), got 3`)
 * @example
 * canonicalView([['b'], ['a', 'x'], ['a']], 'paths') // [['a'], ['b']]
 * canonicalView([['a'], []], 'paths')                // null (everything)
 */
export function canonicalView(paths: unknown, argument: string): string[][] | null {
  if (typeof paths === 'object' && paths !== null && CANONICAL.has(paths)) return paths as string[][];
  if (!Array.isArray(paths)) throw new InvalidArgumentError(argument, 'an array of paths (arrays of object keys)', paths);
  const copies: string[][] = [];
  for (let i = 0; i < paths.length; i++) {
    const path: unknown = paths[i];
    if (!Array.isArray(path)) throw new InvalidArgumentError(`${argument}[${i}]`, 'an array of object keys (strings)', path);
    const copy = new Array<string>(path.length);
    for (let j = 0; j < path.length; j++) {
      const step: unknown = path[j];
      if (typeof step !== 'string') {
        throw new InvalidArgumentError(`${argument}[${i}][${j}]`, 'a string (an object key; a view never steps through an array)', step);
      }
      copy[j] = step;
    }
    if (copy.length === 0) return null;
    copies.push(copy);
  }
  copies.sort(comparePaths);
  const canonical: string[][] = [];
  for (const path of copies) {
    const last = canonical[canonical.length - 1];
    // Sorted, a path under another (or equal to it) comes right after a path it starts with.
    if (last !== undefined && startsWith(path, last)) continue;
    canonical.push(Object.freeze(path) as string[]);
  }
  CANONICAL.add(Object.freeze(canonical));
  return canonical;
}

/** The key of a canonical view: equal views, equal keys. */
export function viewKey(canonical: ViewPaths): string {
  return JSON.stringify(canonical);
}

/**
 * The value at `path` as a view sees it: through plain objects only (a
 * string step on an array finds nothing), own properties only; `undefined`
 * when absent.
 */
export function viewValue(root: JsonValue, path: ViewPath, length = path.length): JsonValue | undefined {
  let node: JsonValue | undefined = root;
  for (let i = 0; i < length; i++) {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined;
    node = ownChild(node, path[i]!);
    if (node === undefined) return undefined;
  }
  return node;
}

/** Whether `value` is a plain JSON object (the only container a view steps through). */
export function isViewObject(value: JsonValue | undefined): value is { [key: string]: JsonValue } {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function startsWith(path: ViewPath, prefix: ViewPath): boolean {
  if (prefix.length > path.length) return false;
  for (let i = 0; i < prefix.length; i++) if (path[i] !== prefix[i]) return false;
  return true;
}

/** Step by step, a shorter path before the paths it starts. */
function comparePaths(a: ViewPath, b: ViewPath): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  }
  return a.length - b.length;
}
