/** RFC 6902 JSON Patch types, as our diffs and the clients' patches use them. */
import type { JsonValue } from '../json.js';

/**
 * One JSON Patch operation (RFC 6902). Our server's diffs use only `add`,
 * `remove` and `replace`; the client applies all six (hat-juggler's Python
 * server sends `move`). Paths are JSON Pointers (RFC 6901): `""` is the
 * whole value, `/a/0` is key `a`, then index 0.
 */
export type Operation =
  | { op: 'add'; path: string; value: JsonValue }
  | { op: 'remove'; path: string }
  | { op: 'replace'; path: string; value: JsonValue }
  | { op: 'move'; from: string; path: string }
  | { op: 'copy'; from: string; path: string }
  | { op: 'test'; path: string; value: JsonValue };

/** A JSON Patch: operations applied in order, all or nothing (what a `state` message's `diff` holds). */
export type Patch = Operation[];
