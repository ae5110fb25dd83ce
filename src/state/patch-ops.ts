/**
 * What both ways of applying a JSON Patch share (in place, apply-patch.ts;
 * as a new snapshot, apply-snapshot.ts): JSON Pointer parsing, path
 * resolution, `test`'s equality and the error that names the failing
 * operation. Pure data work, browser-safe.
 */
import { ProtocolError } from '../errors.js';
import type { JsonObject, JsonValue } from '../json.js';

/** An object or an array of the state. */
export type Container = JsonValue[] | JsonObject;

const ROOT: readonly string[] = [];
const INDEX = /^(?:0|[1-9][0-9]*)$/;
const BAD_ESCAPE = /~(?:[^01]|$)/;

/** An operation that does not apply; rethrown as a ProtocolError naming the operation. */
export class PatchFailure extends Error {}

/** @throws PatchFailure with `message` */
export function fail(message: string): never {
  throw new PatchFailure(message);
}

/**
 * Runs `step` for each operation of `patch`, threading the document
 * through; `undo` runs when one fails, before the error is rethrown as a
 * ProtocolError naming the operation.
 * @throws ProtocolError when the patch is not an array or an operation fails
 */
export function runPatch(root: JsonValue, patch: unknown, step: (doc: JsonValue, op: Record<string, unknown>) => JsonValue, undo: () => void): JsonValue {
  if (!Array.isArray(patch)) throw new ProtocolError(`patch must be an array (got ${describe(patch)})`);
  let doc = root;
  let i = 0;
  try {
    for (; i < patch.length; i++) {
      const op: unknown = patch[i];
      if (op === null || typeof op !== 'object' || Array.isArray(op)) fail('is not an object');
      doc = step(doc, op as Record<string, unknown>);
    }
  } catch (err) {
    undo();
    // A PatchFailure, or a value nested deeper than the stack allows (deep equal, deep clone), is the
    // peer's doing; anything else is a bug of ours, which must not look like the peer's fault.
    if (!(err instanceof PatchFailure) && !(err instanceof RangeError)) throw err;
    throw new ProtocolError(`patch operation ${i} ${summary(patch[i])}: ${(err as Error).message}`);
  }
  return doc;
}

/** The operation's `value`, which `add`, `replace` and `test` need. */
export function requireValue(o: Record<string, unknown>): JsonValue {
  if (!Object.hasOwn(o, 'value') || o.value === undefined) fail('needs a "value"');
  return o.value as JsonValue;
}

/** The message of an unknown or missing `op`. */
export function unknownOp(o: Record<string, unknown>): never {
  return fail(typeof o.op === 'string' ? `unknown op ${JSON.stringify(o.op)}` : 'op must be a string');
}

/** Checks that `move` does not move a value into its own child, which would detach it from the tree. */
export function checkMove(o: Record<string, unknown>): void {
  if ((o.path as string).startsWith((o.from as string) + '/')) fail('"from" is a prefix of "path"');
}

/** RFC 6901: "" is the root, otherwise "/"-separated tokens with ~1 for "/" and ~0 for "~". */
export function parsePointer(pointer: unknown, field: string): readonly string[] {
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

/** The member or element `token` of `node`. */
export function child(node: JsonValue, token: string): JsonValue {
  if (Array.isArray(node)) return node[index(token, node.length - 1)]!;
  if (node === null || typeof node !== 'object') fail('path goes through a value that is not an object or array');
  if (!Object.hasOwn(node, token)) fail('path not found');
  return node[token]!;
}

/** The value at `path`. */
export function get(doc: JsonValue, path: readonly string[]): JsonValue {
  let node = doc;
  for (let k = 0; k < path.length; k++) node = child(node, path[k]!);
  return node;
}

/** Checks that `node` can hold the last token of a path. */
export function asContainer(node: JsonValue): Container {
  if (node === null || typeof node !== 'object') fail('parent is not an object or array');
  return node;
}

/** An array index that must lie in [0, max]. */
export function index(token: string, max: number): number {
  if (!INDEX.test(token)) fail(`${JSON.stringify(token)} is not an array index`);
  const i = Number(token);
  if (i > max) fail(`array index ${token} out of bounds`);
  return i;
}

/** Sets an own data member, even one named `__proto__` (plain assignment would call the prototype setter). */
export function setMember(target: JsonObject, key: string, value: JsonValue): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

/** JSON equality: member order does not matter, array order does. */
export function equal(a: JsonValue, b: JsonValue): boolean {
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
