/**
 * The reference of what a view sees, written from the definition in
 * docs/views.md and nothing else: each present view path's value in its
 * place, the objects on the way holding only the keys on the way, `{}`
 * when the value is an object with nothing of the view, else null.
 */
import type { JsonValue } from '../../../src/json.js';

type Obj = { [key: string]: JsonValue };

const isObject = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The value at `path` through plain objects only (own keys), else undefined. */
export function valueAt(root: JsonValue, path: readonly string[]): JsonValue | undefined {
  let node: JsonValue | undefined = root;
  for (const step of path) {
    if (!isObject(node) || !Object.hasOwn(node, step)) return undefined;
    node = node[step];
  }
  return node;
}

/** `value` restricted to `paths` (null: everything). */
export function restrict(value: JsonValue, paths: readonly (readonly string[])[] | null): JsonValue {
  if (paths === null || paths.some((p) => p.length === 0)) return structuredClone(value);
  if (!isObject(value)) return null;
  const out: Obj = {};
  for (const path of paths) {
    const found = valueAt(value, path);
    if (found === undefined) continue;
    let node = out;
    for (let i = 0; i < path.length - 1; i++) {
      const step = path[i]!;
      if (!isObject(node[step])) Object.defineProperty(node, step, { value: {}, writable: true, enumerable: true, configurable: true });
      node = node[step] as Obj;
    }
    Object.defineProperty(node, path[path.length - 1]!, { value: structuredClone(found), writable: true, enumerable: true, configurable: true });
  }
  return out;
}
