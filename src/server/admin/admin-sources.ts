/**
 * What the admin page reads of a running server, and how it reads the
 * state: a subtree at a time, each child with the size of its JSON, so a
 * 10 MB state is never sent whole.
 */
import type { JsonValue } from '../../json.js';
import type { StateChannel } from '../../state/state-channel.js';
import type { BufferBudget } from '../buffer-budget.js';
import type { Connection } from '../connection.js';
import type { Sessions } from '../session-backend.js';

/** One node of a cluster as the admin page lists it (filled by the cluster layer). */
export interface AdminClusterNode {
  id: string;
  /** Whether this is the node serving the page. */
  self: boolean;
  /** How far behind the log this node is, in entries (null when unknown). */
  lag: number | null;
  [detail: string]: JsonValue;
}

/** Counters bumped on the hot path: plain number increments, read only by the admin page. */
export interface ServerCounters {
  requests: number;
}

/** What a server hands the admin page (through `Server`'s constructor). */
export interface AdminSources {
  connections(): Iterable<Connection>;
  sessions: Sessions | null;
  /** The shared state's channel, or null when each connection has its own state. */
  sharedChannel: StateChannel | null;
  budget: BufferBudget;
  counters: ServerCounters;
  /** Nodes of the cluster, or null without one (the cluster layer sets `server.adminCluster`). */
  cluster(): AdminClusterNode[] | Promise<AdminClusterNode[]> | null;
}

/** One child of a state subtree, as the tree view shows it. */
export interface StateChild {
  key: string | number;
  type: 'object' | 'array' | 'string' | 'number' | 'boolean' | 'null';
  /** Bytes of its JSON text. */
  size: number;
  /** Children it has (objects and arrays), else null. */
  count: number | null;
  /** Its JSON text, cut at PREVIEW characters (scalars only). */
  preview: string | null;
}

/** Longest preview of a scalar value. */
const PREVIEW = 200;
/** Most children listed at once; the rest are summed up. */
const MAX_CHILDREN = 500;

function typeOf(value: JsonValue): StateChild['type'] {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value as StateChild['type'];
}

/** Bytes of a value's JSON text (UTF-8). */
export function jsonSize(value: JsonValue): number {
  const text = JSON.stringify(value) ?? 'null';
  return Buffer.byteLength(text, 'utf8');
}

function describe(key: string | number, value: JsonValue): StateChild {
  const type = typeOf(value);
  const composite = type === 'object' || type === 'array';
  const text = composite ? null : (JSON.stringify(value) ?? 'null');
  return {
    key,
    type,
    size: composite ? jsonSize(value) : Buffer.byteLength(text!, 'utf8'),
    count: composite ? (Array.isArray(value) ? value.length : Object.keys(value as object).length) : null,
    preview: text === null ? null : text.length > PREVIEW ? text.slice(0, PREVIEW) + '…' : text,
  };
}

/**
 * One level of the state below `path`: each child's type, size and (for
 * scalars) a preview; at most MAX_CHILDREN of them.
 * @returns null when nothing is at `path`
 */
export function stateLevel(root: JsonValue, path: readonly (string | number)[]): { node: StateChild; children: StateChild[]; more: number } | null {
  let value: JsonValue | undefined = root;
  for (const step of path) {
    if (value === null || typeof value !== 'object') return null;
    value = Array.isArray(value) ? value[Number(step)] : Object.hasOwn(value, String(step)) ? value[String(step)] : undefined;
    if (value === undefined) return null;
  }
  const node = describe(path.length === 0 ? '' : path[path.length - 1]!, value);
  const children: StateChild[] = [];
  let more = 0;
  if (value !== null && typeof value === 'object') {
    const entries: [string | number, JsonValue][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
    more = Math.max(0, entries.length - MAX_CHILDREN);
    for (const [key, child] of entries.slice(0, MAX_CHILDREN)) children.push(describe(key, child));
  }
  return { node, children, more };
}
