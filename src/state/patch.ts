/** RFC 6902 JSON Patch types, as our diffs and the clients' patches use them. */
import type { JsonValue } from '../json.js';

export type Operation =
  | { op: 'add'; path: string; value: JsonValue }
  | { op: 'remove'; path: string }
  | { op: 'replace'; path: string; value: JsonValue }
  | { op: 'move'; from: string; path: string }
  | { op: 'copy'; from: string; path: string }
  | { op: 'test'; path: string; value: JsonValue };

export type Patch = Operation[];
