/**
 * RFC 6902 JSON Patch, applied in place: what a client does with every
 * `state` diff. Pure data work, no I/O and no `node:*`, so the browser
 * client uses it too.
 */
import { ProtocolError } from '../errors.js';
import type { JsonValue } from '../json.js';

type JsonObject = { [key: string]: JsonValue };
type Container = JsonValue[] | JsonObject;

// One entry per change made, so a failing patch can be undone in reverse
// at a cost proportional to the patch, never by copying the whole value.
type Undo =
  | { kind: 'set'; target: JsonObject; key: string; had: boolean; old: JsonValue | undefined }
  | { kind: 'insert'; target: JsonValue[]; index: number }
  | { kind: 'delete'; target: JsonValue[]; index: number; old: JsonValue }
  | { kind: 'assign'; target: JsonValue[]; index: number; old: JsonValue };

const ROOT: readonly string[] = [];
const INDEX = /^(?:0|[1-9][0-9]*)$/;
const BAD_ESCAPE = /~(?:[^01]|$)/;

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
  if (!Array.isArray(patch)) throw new ProtocolError(`patch must be an array (got ${describe(patch)})`);
  const undo: Undo[] = [];
  let doc = root;
  let i = 0;
  try {
    for (; i < patch.length; i++) doc = applyOperation(doc, patch[i], undo);
  } catch (err) {
    rollback(undo);
    if (err instanceof PatchFailure) throw new ProtocolError(`patch operation ${i} ${summary(patch[i])}: ${err.message}`);
    // A value nested deeper than the stack allows (deep equal, deep clone) is the peer's doing;
    // anything else is a bug of ours, which must not look like the peer's fault.
    if (err instanceof RangeError) throw new ProtocolError(`patch operation ${i} ${summary(patch[i])}: ${err.message}`);
    throw err;
  }
  return doc;
}

/** An operation that does not apply; rethrown as a ProtocolError naming the operation. */
class PatchFailure extends Error {}

function fail(message: string): never {
  throw new PatchFailure(message);
}

function applyOperation(doc: JsonValue, op: unknown, undo: Undo[]): JsonValue {
  if (op === null || typeof op !== 'object' || Array.isArray(op)) fail('is not an object');
  const o = op as Record<string, unknown>;
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
      // Moving a value into its own child would detach it from the tree.
      if ((o.path as string).startsWith((o.from as string) + '/')) fail('"from" is a prefix of "path"');
      return add(remove(doc, from, undo), path, value, undo);
    }
    case 'copy':
      return add(doc, path, clone(get(doc, parsePointer(o.from, 'from'))), undo);
    case 'test':
      if (!equal(get(doc, path), requireValue(o))) fail('test failed: the value differs');
      return doc;
    default:
      return fail(typeof o.op === 'string' ? `unknown op ${JSON.stringify(o.op)}` : 'op must be a string');
  }
}

function requireValue(o: Record<string, unknown>): JsonValue {
  if (!Object.hasOwn(o, 'value') || o.value === undefined) fail('needs a "value"');
  return o.value as JsonValue;
}

/** RFC 6901: "" is the root, otherwise "/"-separated tokens with ~1 for "/" and ~0 for "~". */
function parsePointer(pointer: unknown, field: string): readonly string[] {
  if (typeof pointer !== 'string') fail(`"${field}" must be a string`);
  if (pointer === '') return ROOT;
  if (pointer.charCodeAt(0) !== 47) fail(`"${field}" must be "" or start with "/"`);
  const tokens = pointer.slice(1).split('/');
  if (pointer.includes('~')) {
    for (let k = 0; k < tokens.length; k++) {
      const token = tokens[k]!;
      if (!token.includes('~')) continue;
      if (BAD_ESCAPE.test(token)) fail(`"${field}" has a "~" not followed by 0 or 1`);
      tokens[k] = token.replaceAll('~1', '/').replaceAll('~0', '~');
    }
  }
  return tokens;
}

/** The container that holds the last token of `path`. */
function parentOf(doc: JsonValue, path: readonly string[]): Container {
  let node = doc;
  for (let k = 0; k < path.length - 1; k++) node = child(node, path[k]!);
  if (node === null || typeof node !== 'object') fail('parent is not an object or array');
  return node;
}

function child(node: JsonValue, token: string): JsonValue {
  if (Array.isArray(node)) return node[index(token, node.length - 1)]!;
  if (node === null || typeof node !== 'object') fail('path goes through a value that is not an object or array');
  if (!Object.hasOwn(node, token)) fail('path not found');
  return node[token]!;
}

function get(doc: JsonValue, path: readonly string[]): JsonValue {
  let node = doc;
  for (let k = 0; k < path.length; k++) node = child(node, path[k]!);
  return node;
}

/** An array index that must lie in [0, max]. */
function index(token: string, max: number): number {
  if (!INDEX.test(token)) fail(`${JSON.stringify(token)} is not an array index`);
  const i = Number(token);
  if (i > max) fail(`array index ${token} out of bounds`);
  return i;
}

function add(doc: JsonValue, path: readonly string[], value: JsonValue, undo: Undo[]): JsonValue {
  if (path.length === 0) return value;
  const parent = parentOf(doc, path);
  const key = path[path.length - 1]!;
  if (Array.isArray(parent)) {
    const i = key === '-' ? parent.length : index(key, parent.length);
    if (i === parent.length) parent.push(value);
    else parent.splice(i, 0, value);
    undo.push({ kind: 'insert', target: parent, index: i });
  } else {
    const had = Object.hasOwn(parent, key);
    undo.push({ kind: 'set', target: parent, key, had, old: had ? parent[key] : undefined });
    setMember(parent, key, value);
  }
  return doc;
}

function remove(doc: JsonValue, path: readonly string[], undo: Undo[]): JsonValue {
  if (path.length === 0) return null;
  const parent = parentOf(doc, path);
  const key = path[path.length - 1]!;
  if (Array.isArray(parent)) {
    const i = index(key, parent.length - 1);
    const old = i === parent.length - 1 ? parent.pop()! : parent.splice(i, 1)[0]!;
    undo.push({ kind: 'delete', target: parent, index: i, old });
  } else {
    if (!Object.hasOwn(parent, key)) fail('path not found');
    undo.push({ kind: 'set', target: parent, key, had: true, old: parent[key] });
    delete parent[key];
  }
  return doc;
}

function replace(doc: JsonValue, path: readonly string[], value: JsonValue, undo: Undo[]): JsonValue {
  if (path.length === 0) return value;
  const parent = parentOf(doc, path);
  const key = path[path.length - 1]!;
  if (Array.isArray(parent)) {
    const i = index(key, parent.length - 1);
    undo.push({ kind: 'assign', target: parent, index: i, old: parent[i]! });
    parent[i] = value;
  } else {
    if (!Object.hasOwn(parent, key)) fail('path not found');
    undo.push({ kind: 'set', target: parent, key, had: true, old: parent[key] });
    setMember(parent, key, value);
  }
  return doc;
}

/** Sets an own data member, even one named `__proto__` (plain assignment would call the prototype setter). */
function setMember(target: JsonObject, key: string, value: JsonValue): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    target[key] = value;
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

/** JSON equality: member order does not matter, array order does. */
function equal(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!equal(a[i]!, b[i]!)) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) if (!Object.hasOwn(b, key) || !equal(a[key]!, b[key]!)) return false;
  return true;
}

function summary(op: unknown): string {
  if (op === null || typeof op !== 'object') return `(${describe(op)})`;
  const o = op as Record<string, unknown>;
  const name = typeof o.op === 'string' ? o.op.slice(0, 20) : '?';
  const path = typeof o.path === 'string' ? JSON.stringify(o.path.length > 60 ? o.path.slice(0, 60) + '...' : o.path) : '?';
  return `(${name} ${path})`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}
