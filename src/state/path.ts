/**
 * Paths into a JSON value, as the public API takes them, and their JSON
 * Pointer (RFC 6901) form, as diffs carry them. No I/O, no `node:*`: the
 * browser client uses this file too.
 */
import { InvalidArgumentError } from '../errors.js';

/** One step into a JSON value: an object key (string) or an array index (non-negative integer). */
export type PathSegment = string | number;

/**
 * Where a value lives in a JSON document: a bare key (`'a'` means `['a']`),
 * a bare index (`3` means `[3]`), or an array of steps (`[]` is the root).
 */
export type Path = PathSegment | readonly PathSegment[];

/** Whether `segment` is a valid path step: any string, or a non-negative safe integer. */
export function isPathSegment(segment: unknown): segment is PathSegment {
  return typeof segment === 'string' || (typeof segment === 'number' && Number.isSafeInteger(segment) && segment >= 0);
}

/**
 * Validates `path` and returns it as a fresh array of steps, which the
 * caller may keep: later changes to the caller's array cannot reach it.
 *
 * @param argument the name used in the error, e.g. `'path'`
 * @throws InvalidArgumentError naming the argument (`path[2] must be a
 *   string or a non-negative integer, got -1`)
 * @example
 * normalizePath('a')          // ['a']
 * normalizePath(3)            // [3]
 * normalizePath(['a', 0, 'b']) // ['a', 0, 'b']
 * normalizePath([])           // [] (the root)
 */
export function normalizePath(path: Path, argument = 'path'): PathSegment[] {
  if (typeof path === 'string') return [path];
  if (Array.isArray(path)) {
    const segments = new Array<PathSegment>(path.length);
    for (let i = 0; i < path.length; i++) {
      const segment: unknown = path[i];
      if (!isPathSegment(segment)) throw new InvalidArgumentError(`${argument}[${i}]`, 'a string or a non-negative integer', segment);
      // -0 is a valid index but would print as "0" only by accident; keep it canonical.
      segments[i] = segment === 0 ? 0 : segment;
    }
    return segments;
  }
  if (isPathSegment(path)) return [path === 0 ? 0 : path];
  throw new InvalidArgumentError(argument, 'a string, a non-negative integer or an array of them', path);
}

/** Escapes one step for a JSON Pointer: `~` becomes `~0`, `/` becomes `~1` (RFC 6901, section 3). */
export function escapePointerSegment(segment: PathSegment): string {
  const text = typeof segment === 'string' ? segment : String(segment);
  // Most keys need no escaping; skip the two regex passes for them.
  if (text.indexOf('~') === -1 && text.indexOf('/') === -1) return text;
  return text.replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * The JSON Pointer of `segments[0..length)`: `''` for the root, else each
 * step escaped and prefixed by `/`.
 *
 * @example
 * toPointer(['a/b', 0, 'm~n']) // '/a~1b/0/m~0n'
 */
export function toPointer(segments: readonly PathSegment[], length = segments.length): string {
  let pointer = '';
  for (let i = 0; i < length; i++) pointer += '/' + escapePointerSegment(segments[i]!);
  return pointer;
}

/**
 * Splits a JSON Pointer into its unescaped steps (all strings: a pointer
 * does not say whether `0` is a key or an index).
 *
 * @throws InvalidArgumentError when `pointer` is neither `''` nor starts with `/`
 * @example
 * parsePointer('/a~1b/0') // ['a/b', '0']
 */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (typeof pointer !== 'string' || pointer.charAt(0) !== '/') {
    throw new InvalidArgumentError('pointer', 'a JSON Pointer ("" or a string starting with "/")', pointer);
  }
  const parts = pointer.slice(1).split('/');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    // ~1 first: "~01" must become "~1", not "/".
    if (part.indexOf('~') !== -1) parts[i] = part.replace(/~1/g, '/').replace(/~0/g, '~');
  }
  return parts;
}
