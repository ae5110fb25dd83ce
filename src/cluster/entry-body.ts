/**
 * The body of a cluster log entry as JSON text: either the writes of one
 * node's synchronous run, `{"w":[["s",path,value],["r",path],...]}`, or a
 * broadcast, `{"b":[name,data]}`. Decoding checks the shape fully, so an
 * entry that some other writer put in the stream is skipped on every node
 * alike rather than half-applied.
 */
import type { JsonValue } from '../json.js';
import { writeKey } from '../state/json-node.js';
import type { PathSegment } from '../state/path.js';
import type { StateEntry, StateWrite } from '../state/state-log.js';

/** A decoded body: writes to apply, or a broadcast to deliver. */
export type EntryBody =
  | { readonly kind: 'writes'; readonly entry: StateEntry }
  | { readonly kind: 'broadcast'; readonly name: string; readonly data: JsonValue };

/**
 * The JSON text of an entry of writes.
 * @example
 * encodeWrites([{ kind: 'set', path: ['a'], value: 1 }]) // '{"w":[["s",["a"],1]]}'
 */
export function encodeWrites(writes: readonly StateWrite[]): string {
  return JSON.stringify({ w: writes.map((w) => (w.kind === 'set' ? ['s', w.path, w.value] : ['r', w.path])) });
}

/**
 * What `decodeBody(encodeWrites(writes))` gives, without the text: the
 * writer applies its own entry from this copy, made when the text is, so
 * it holds what every other node parses from that text (keys in JSON's
 * order, a `__proto__` key as data, `-0` as `0`). Null when a value is no
 * longer plain JSON (changed behind the storage's back since its check:
 * `undefined`, a function, a `Date`, a non-finite number, a hole), where
 * only the text says what JSON made of it. A copy of a flat record costs
 * a fraction of parsing it back.
 */
export function copyWrites(writes: readonly StateWrite[]): StateEntry | null {
  const entry: StateWrite[] = [];
  for (const w of writes) {
    if (w.kind === 'remove') {
      entry.push({ kind: 'remove', path: w.path.slice() });
      continue;
    }
    const value = copyJson(w.value);
    if (value === NOT_PLAIN) return null;
    entry.push({ kind: 'set', path: w.path.slice(), value });
  }
  return entry;
}

const NOT_PLAIN = Symbol('not plain JSON');

function copyJson(value: unknown): JsonValue | typeof NOT_PLAIN {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? (value === 0 ? 0 : value) : NOT_PLAIN;
    case 'object':
      break;
    default:
      return NOT_PLAIN;
  }
  if (value === null) return null;
  // JSON.stringify calls a toJSON method: only the text says what came of it.
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return NOT_PLAIN;
  if (Array.isArray(value)) {
    const out: JsonValue[] = [];
    for (let i = 0; i < value.length; i++) {
      const item = copyJson(value[i]);
      if (item === NOT_PLAIN) return NOT_PLAIN;
      out.push(item);
    }
    return out;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return NOT_PLAIN;
  const out: { [key: string]: JsonValue } = {};
  for (const key of Object.keys(value)) {
    const item = copyJson((value as Record<string, unknown>)[key]);
    if (item === NOT_PLAIN) return NOT_PLAIN;
    writeKey(out, key, item);
  }
  return out;
}

/** The JSON text of a broadcast. @throws TypeError when JSON cannot carry `data` */
export function encodeBroadcast(name: string, data: JsonValue): string {
  return JSON.stringify({ b: [name, data] });
}

function isPath(value: unknown): value is PathSegment[] {
  if (!Array.isArray(value)) return false;
  for (const step of value) {
    if (typeof step !== 'string' && !(Number.isSafeInteger(step) && (step as number) >= 0)) return false;
  }
  return true;
}

/**
 * Decodes a body from its JSON text, or says why it is not one of ours
 * (then the entry is junk: skipped and reported, on every node alike).
 */
export function decodeBody(text: string): EntryBody | string {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return 'body is not JSON';
  }
  if (body === null || typeof body !== 'object') return 'the body is not an object';
  const { w, b } = body as { w?: unknown; b?: unknown };
  if (Array.isArray(b)) {
    if (b.length !== 2 || typeof b[0] !== 'string') return 'a broadcast without a name';
    return { kind: 'broadcast', name: b[0], data: b[1] as JsonValue };
  }
  if (!Array.isArray(w)) return 'neither writes nor a broadcast';
  const entry: StateWrite[] = [];
  for (const item of w) {
    if (!Array.isArray(item) || !isPath(item[1])) return 'a write without a path';
    if (item[0] === 's' && item.length === 3) entry.push({ kind: 'set', path: item[1], value: item[2] as JsonValue });
    else if (item[0] === 'r' && item.length === 2) entry.push({ kind: 'remove', path: item[1] });
    else return 'a write of unknown kind';
  }
  return { kind: 'writes', entry };
}
