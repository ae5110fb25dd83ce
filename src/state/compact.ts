/**
 * Compaction of recorded changes into one JSON Patch (RFC 6902), so that a
 * key changed 2,000 times between two flushes goes out once.
 *
 * The rule: a later change at a path P whose every container is an object
 * (no array on the way, so no index can have shifted under it) supersedes
 * every earlier change at or below P. The survivor takes its "existed"
 * flag from the earliest change it dropped exactly at P, so it emits
 * `replace` if P existed when the window started and `add` if not, and a
 * remove of something that did not exist at the start vanishes. Changes
 * through arrays never supersede anything (a later index may name another
 * element), but a later object-only change covering them drops them.
 */
import type { JsonValue } from '../json.js';
import { toPointer, type PathSegment } from './path.js';

/** One recorded change, as the {@link ChangeLog} keeps it. */
export interface ChangeRecord {
  /** Steps to the changed location, at the time of the change (its JSON Pointer is built only for a diff). */
  readonly segments: readonly PathSegment[];
  /** Whether every container on the way to the location was an object (no array). */
  readonly objectPath: boolean;
  /** `set` writes `text` at the location; `remove` deletes it. */
  readonly kind: 'set' | 'remove';
  /** Whether the location held a value just before this change. */
  readonly existed: boolean;
  /** Whether this change is the first of its entry (the position before it is a version). */
  readonly opens?: boolean;
  /** For `set`: the value as JSON text. The {@link ChangeLog} fills it in lazily; compaction needs it present. */
  text: string | undefined;
  /** For `set`, until `text` is made: the value. */
  value?: JsonValue | undefined;
}

/** A trie of pointer steps; each node lists the surviving changes made exactly there. */
interface Node {
  at: number[] | undefined;
  children: Map<string, Node> | undefined;
}

/**
 * The JSON text of the compacted patch for `records[start..end)`, using
 * only `add`, `remove` and `replace`; `'[]'` when the changes cancel out.
 * Time is linear in the number of records times their depth: every trie
 * node and every record is dropped at most once.
 */
export function compactPatchText(records: readonly ChangeRecord[], start: number, end: number): string {
  // One change per flush is the common case (autoflushDelay 0, a quiet state): no trie needed.
  if (end - start === 1) {
    const record = records[start]!;
    return record.kind === 'remove' && !record.existed ? '[]' : '[' + operationText(record, record.existed) + ']';
  }
  const { alive, existed } = survivors(records, start, end);
  let text = '[';
  for (let k = 0; k < alive.length; k++) {
    if (alive[k] === 0) continue;
    if (text.length > 1) text += ',';
    text += operationText(records[start + k]!, existed[k] === 1);
  }
  return text + ']';
}

/** One operation of a compacted patch: where it applies and its JSON text (what views route and pass through). */
export interface CompactedOp {
  readonly segments: readonly PathSegment[];
  readonly text: string;
}

/** The operations of {@link compactPatchText}'s patch, one by one, in order. */
export function compactOps(records: readonly ChangeRecord[], start: number, end: number): CompactedOp[] {
  const { alive, existed } = survivors(records, start, end);
  const ops: CompactedOp[] = [];
  for (let k = 0; k < alive.length; k++) {
    if (alive[k] === 0) continue;
    const record = records[start + k]!;
    ops.push({ segments: record.segments, text: operationText(record, existed[k] === 1) });
  }
  return ops;
}

/** Which of `records[start..end)` survive compaction, and whether each survivor's location existed at `start`. */
function survivors(records: readonly ChangeRecord[], start: number, end: number): { alive: Uint8Array; existed: Uint8Array } {
  const count = end - start;
  const alive = new Uint8Array(count);
  const existed = new Uint8Array(count);
  const root: Node = { at: undefined, children: undefined };
  for (let k = 0; k < count; k++) {
    const record = records[start + k]!;
    alive[k] = 1;
    existed[k] = record.existed ? 1 : 0;
    let node = root;
    for (const segment of record.segments) node = child(node, typeof segment === 'string' ? segment : String(segment));
    if (!record.objectPath) {
      (node.at ??= []).push(k);
      continue;
    }
    if (node.at !== undefined && node.at.length > 0) existed[k] = existed[node.at[0]!]!;
    drop(node, alive);
    // Kept as the source of "existed" for a later change here, even when not emitted.
    node.at = [k];
    if (record.kind === 'remove' && existed[k] === 0) alive[k] = 0;
  }
  return { alive, existed };
}

/** One RFC 6902 operation as JSON text; the value is the text recorded with the change. */
function operationText(record: ChangeRecord, existed: boolean): string {
  const path = JSON.stringify(toPointer(record.segments));
  if (record.kind === 'remove') return '{"op":"remove","path":' + path + '}';
  return (existed ? '{"op":"replace","path":' : '{"op":"add","path":') + path + ',"value":' + record.text + '}';
}

function child(node: Node, key: string): Node {
  const children = (node.children ??= new Map());
  let next = children.get(key);
  if (next === undefined) {
    next = { at: undefined, children: undefined };
    children.set(key, next);
  }
  return next;
}

/** Marks every change at or below `top` as superseded and detaches the subtree. */
function drop(top: Node, alive: Uint8Array): void {
  if (top.at === undefined && top.children === undefined) return;
  const stack: Node[] = [top];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node.at !== undefined) for (const k of node.at) alive[k] = 0;
    if (node.children !== undefined) for (const next of node.children.values()) stack.push(next);
  }
  top.at = undefined;
  top.children = undefined;
}
