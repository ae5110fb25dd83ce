/**
 * RFC 6902 JSON Patch, applied in place: what a client does with every
 * `state` diff. Pure data work, no I/O and no `node:*`, so the browser
 * client uses it too.
 */
import type { JsonObject, JsonValue } from '../json.js';
import { asContainer, checkMove, child, equal, fail, get, index, parsePointer, requireValue, runPatch, setMember, unknownOp, type Container } from './patch-ops.js';

// One entry per change made, so a failing patch can be undone in reverse
// at a cost proportional to the patch, never by copying the whole value.
/** One change to undo. @internal */
export type Undo =
  | { kind: 'set'; target: JsonObject; key: string; had: boolean; old: JsonValue | undefined }
  | { kind: 'insert'; target: JsonValue[]; index: number }
  | { kind: 'delete'; target: JsonValue[]; index: number; old: JsonValue }
  | { kind: 'assign'; target: JsonValue[]; index: number; old: JsonValue };

/**
 * Applies an RFC 6902 JSON Patch to `root` in place and returns the new root.
 *
 * All six operations are supported (`add`, `remove`, `replace`, `move`,
 * `copy`, `test`). Containers on the patched paths are mutated; the root
 * itself is replaced only by an operation at `""` (and `remove` at `""`
 * leaves `null`, juggler's empty state). Values taken from the patch become
 * part of the result without a copy, so the patch must not be reused as
 * data afterwards; `copy` deep-clones what it copies. Keys such as
 * `__proto__`, `constructor` and `prototype` are ordinary data: nothing is
 * ever written to a prototype. The cost is proportional to the patch (plus
 * the array shifts `add` and `remove` imply), never to the size of `root`.
 *
 * A patch applies entirely or not at all: when an operation fails, the
 * ones before it are undone in reverse order before the error is thrown,
 * so `root` holds its previous value (object members that were removed
 * and put back may come back in a different key order).
 *
 * @param root the value to patch; it is modified
 * @param patch the operations, in order
 * @returns the patched value (`root` itself unless an operation replaced the root)
 * @throws ProtocolError when the patch is not an array, an operation is
 *   malformed or unknown, a path or index does not resolve, or a `test` fails
 *
 * @example
 * let state: JsonValue = { items: [1, 2] };
 * state = applyPatch(state, [{ op: 'add', path: '/items/-', value: 3 }]);
 * // state is the same object, now { items: [1, 2, 3] }
 */
export function applyPatch(root: JsonValue, patch: unknown): JsonValue {
  const undo: Undo[] = [];
  return runPatch(root, patch, (doc, op) => applyOperation(doc, op, undo), () => rollback(undo));
}

function applyOperation(doc: JsonValue, o: Record<string, unknown>, undo: Undo[]): JsonValue {
  const path = parsePointer(o.path, 'path');
  switch (o.op) {
    case 'add':
      return add(doc, path, requireValue(o), undo);
    case 'remove':
      return remove(doc, path, undo);
    case 'replace':
      return replace(doc, path, requireValue(o), undo);
    case 'move': {
      const from = parsePointer(o.from, 'from');
      const value = get(doc, from);
      if (o.from === o.path) return doc;
      checkMove(o);
      return add(remove(doc, from, undo), path, value, undo);
    }
    case 'copy':
      return add(doc, path, clone(get(doc, parsePointer(o.from, 'from'))), undo);
    case 'test':
      if (!equal(get(doc, path), requireValue(o))) fail('test failed: the value differs');
      return doc;
    default:
      return unknownOp(o);
  }
}

/** The container that holds the last token of `path`. */
function parentOf(doc: JsonValue, path: readonly string[]): Container {
  let node = doc;
  for (let k = 0; k < path.length - 1; k++) node = child(node, path[k]!);
  return asContainer(node);
}

function add(doc: JsonValue, path: readonly string[], value: JsonValue, undo: Undo[]): JsonValue {
  if (path.length === 0) return value;
  addAt(parentOf(doc, path), path[path.length - 1]!, value, undo);
  return doc;
}

function remove(doc: JsonValue, path: readonly string[], undo: Undo[]): JsonValue {
  if (path.length === 0) return null;
  removeAt(parentOf(doc, path), path[path.length - 1]!, undo);
  return doc;
}

function replace(doc: JsonValue, path: readonly string[], value: JsonValue, undo: Undo[]): JsonValue {
  if (path.length === 0) return value;
  replaceAt(parentOf(doc, path), path[path.length - 1]!, value, undo);
  return doc;
}

/**
 * `add` of `value` as member or element `key` of `parent`, recorded in
 * `undo` when given (apply-snapshot.ts writes only to fresh copies and
 * needs no undo).
 * @throws PatchFailure when `key` is not a valid index
 */
export function addAt(parent: Container, key: string, value: JsonValue, undo: Undo[] | null): void {
  if (Array.isArray(parent)) {
    const i = key === '-' ? parent.length : index(key, parent.length);
    if (i === parent.length) parent.push(value);
    else parent.splice(i, 0, value);
    undo?.push({ kind: 'insert', target: parent, index: i });
  } else {
    const had = Object.hasOwn(parent, key);
    undo?.push({ kind: 'set', target: parent, key, had, old: had ? parent[key] : undefined });
    setMember(parent, key, value);
  }
}

/**
 * `remove` of member or element `key` of `parent`; see {@link addAt}.
 * @throws PatchFailure when there is no such member or element
 */
export function removeAt(parent: Container, key: string, undo: Undo[] | null): void {
  if (Array.isArray(parent)) {
    const i = index(key, parent.length - 1);
    const old = i === parent.length - 1 ? parent.pop()! : parent.splice(i, 1)[0]!;
    undo?.push({ kind: 'delete', target: parent, index: i, old });
  } else {
    if (!Object.hasOwn(parent, key)) fail('path not found');
    undo?.push({ kind: 'set', target: parent, key, had: true, old: parent[key] });
    delete parent[key];
  }
}

/**
 * `replace` of member or element `key` of `parent`; see {@link addAt}.
 * @throws PatchFailure when there is no such member or element
 */
export function replaceAt(parent: Container, key: string, value: JsonValue, undo: Undo[] | null): void {
  if (Array.isArray(parent)) {
    const i = index(key, parent.length - 1);
    undo?.push({ kind: 'assign', target: parent, index: i, old: parent[i]! });
    parent[i] = value;
  } else {
    if (!Object.hasOwn(parent, key)) fail('path not found');
    undo?.push({ kind: 'set', target: parent, key, had: true, old: parent[key] });
    setMember(parent, key, value);
  }
}

function rollback(undo: Undo[]): void {
  for (let k = undo.length - 1; k >= 0; k--) {
    const u = undo[k]!;
    switch (u.kind) {
      case 'set':
        if (u.had) setMember(u.target, u.key, u.old!);
        else delete u.target[u.key];
        break;
      case 'insert':
        u.target.splice(u.index, 1);
        break;
      case 'delete':
        u.target.splice(u.index, 0, u.old);
        break;
      case 'assign':
        u.target[u.index] = u.old;
        break;
    }
  }
}

/** A deep copy of a JSON value, so that a `copy` never aliases its source. */
function clone(value: JsonValue): JsonValue {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    const out: JsonValue[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = clone(value[i]!);
    return out;
  }
  const out: JsonObject = {};
  for (const key of Object.keys(value)) setMember(out, key, clone(value[key]!));
  return out;
}
