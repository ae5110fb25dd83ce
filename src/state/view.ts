/**
 * One distinct view of a shared state (docs/views.md): its paths as a
 * trie, which of them the view's connections have now, and the diffs that
 * keep them there. What a connection sees is the shared value restricted
 * to the view: each present path's value in its place, the objects on the
 * way holding only the keys on the way, `{}` when the shared value is an
 * object with nothing of the view in it, else `null`.
 *
 * Secrecy rests on one rule: a diff for a view is made of (a) operations
 * strictly inside a path the view has now, passed through as they are,
 * and (b) operations this file writes from the live value at a view path
 * (its value, a wrapper of way keys, a removal). Every other operation,
 * whatever it touched above or beside the view, is dropped; its effect on
 * the view is recomputed from the value, never copied from the diff.
 */
import type { JsonValue } from '../json.js';
import type { CompactedOp } from './compact.js';
import { ownChild } from './json-node.js';
import { toPointer } from './path.js';
import { isViewObject, viewKey, viewValue, type ViewPath } from './view-paths.js';

/** A node of a view's trie: a view path (a leaf) or an object key on the way to some. */
export interface ViewNode {
  /** Keys from the root. */
  readonly steps: ViewPath;
  /** The JSON Pointer of `steps`. */
  readonly pointer: string;
  readonly parent: ViewNode | null;
  /** Keys on the way to further view paths; null for a view path. */
  readonly children: Map<string, ViewNode> | null;
  readonly view: View;
  /** View paths at or under this node that exist now (a leaf: 0 or 1). */
  present: number;
}

/**
 * What one flush did to a view, as the path index found it. A {@link View}
 * is its own: routing a flush writes into fields of the views it touches,
 * reused every flush, so it allocates nothing per view or per operation,
 * and a flush that touches one view among thousands reads few objects.
 */
export interface ViewWork {
  /** Routed to in the flush under way (the index lists the view once). */
  touched: boolean;
  /** An operation replaced the whole value. */
  root: boolean;
  /** View paths with an operation at or above them: recomputed from the value (made when first needed). */
  resets: Set<ViewNode> | null;
  /**
   * Operations strictly inside a view path, in order, as pairs: the view
   * path it is in, then its JSON text. Only the first `passCount` entries
   * belong to the flush under way: the array is never shortened, since
   * setting its length to 0 would drop its storage and the next flush
   * would allocate it again.
   */
  readonly passes: (ViewNode | string)[];
  passCount: number;
}

/**
 * A canonical view and the state its connections have (as of the last flush).
 *
 * @example
 * const view = new View([['sites', 'north']], storage.data)
 * view.wholeText(storage.data)  // '{"sites":{"north":{...}}}' or '{}'
 */
export class View implements ViewWork {
  /** Equal views, equal keys. */
  readonly key: string;
  /** The canonical paths. */
  readonly paths: readonly ViewPath[];
  /** Its view paths, in canonical order. */
  readonly leaves: readonly ViewNode[];
  readonly #root: ViewNode;
  // Whether the shared value is an object (else the view's value is null).
  #rootObject = false;
  // The whole restricted value's text for one position, shared by joiners.
  #whole: { position: number; text: string; frames: Map<string | null, unknown> } | null = null;
  /** Members of the channel that see through it. */
  users = 0;
  /** The fan-out's frame-cache keys of this view (plain and versioned), made on first use. */
  plainFrameKey: string | undefined = undefined;
  versionedFrameKey: string | undefined = undefined;
  // What the flush under way routed to it (see `ViewIndex.flush`).
  touched = false;
  root = false;
  resets: Set<ViewNode> | null = null;
  readonly passes: (ViewNode | string)[] = [];
  passCount = 0;

  /** @param paths canonical (see `canonicalView`) */
  constructor(paths: readonly ViewPath[], data: JsonValue) {
    this.paths = paths;
    this.key = viewKey(paths);
    this.#root = this.#node([], null, true);
    const leaves: ViewNode[] = [];
    for (const path of paths) {
      let node = this.#root;
      for (let i = 0; i < path.length; i++) {
        const step = path[i]!;
        let next = node.children!.get(step);
        if (next === undefined) {
          next = this.#node(path.slice(0, i + 1), node, i < path.length - 1);
          node.children!.set(step, next);
        }
        node = next;
      }
      leaves.push(node);
    }
    this.leaves = leaves;
    this.refresh(data);
  }

  /** Recomputes which view paths exist in `data` (a view made now, or after a whole-value flush). */
  refresh(data: JsonValue): void {
    this.#whole = null;
    this.#rootObject = isViewObject(data);
    for (const leaf of this.leaves) for (let n: ViewNode | null = leaf; n !== null && n.present !== 0; n = n.parent) n.present = 0;
    if (!this.#rootObject) return;
    for (const leaf of this.leaves) if (viewValue(data, leaf.steps) !== undefined) mark(leaf, 1);
  }

  /** The restricted value's JSON text (presence must be current for `data`). */
  wholeText(data: JsonValue): string {
    return this.#rootObject ? nodeText(this.#root, data) : 'null';
  }

  /** The whole restricted value as a `state` message, encoded once per position and version. */
  wholeFrames<F>(data: JsonValue, position: number, version: string | null, encode: (text: string) => F): F {
    if (this.#whole?.position !== position) this.#whole = { position, text: this.wholeText(data), frames: new Map() };
    const whole = this.#whole;
    let frames = whole.frames.get(version) as F | undefined;
    if (frames === undefined) {
      frames = encode(`{"type":"state","diff":[{"op":"replace","path":"","value":${whole.text}}]${version === null ? '' : `,"version":"${version}"`}}`);
      whole.frames.set(version, frames);
    }
    return frames;
  }

  /**
   * The diff of one flush within the view, from what the index routed to
   * it (its {@link ViewWork} fields, emptied here); moves the view's presence to
   * `data` (the value at the flush).
   * @returns a JSON Patch as text, `'[]'` when nothing in the view changed
   */
  flushDiff(data: JsonValue): string {
    this.#whole = null;
    const { resets, passes } = this;
    let text = '';
    if (this.root) {
      const was = this.#rootObject;
      this.refresh(data);
      text = !was && !this.#rootObject ? '' : '{"op":"replace","path":"","value":' + this.wholeText(data) + '}';
    } else {
      const filter = resets !== null && resets.size > 0;
      if (filter) for (const leaf of resets) text = append(text, this.#resetText(leaf, data));
      // The common flush: operations inside view paths only, passed through in order.
      for (let i = 0; i < this.passCount; i += 2) {
        const leaf = passes[i] as ViewNode;
        if (leaf.present !== 0 && !(filter && resets.has(leaf))) text = append(text, passes[i + 1] as string);
      }
    }
    // The texts are not kept past their flush.
    for (let i = 1; i < this.passCount; i += 2) passes[i] = '';
    this.touched = false;
    this.root = false;
    if (resets !== null && resets.size > 0) resets.clear();
    this.passCount = 0;
    return text === '' ? '[]' : '[' + text + ']';
  }

  /** The operation that brings view path `leaf` to `data` after a change at or above it ('' for none); moves its presence. */
  #resetText(leaf: ViewNode, data: JsonValue): string {
    const value = this.#rootObject ? viewValue(data, leaf.steps) : undefined;
    if (leaf.present !== 0) {
      if (value !== undefined) return `{"op":"replace","path":${JSON.stringify(leaf.pointer)},"value":${JSON.stringify(value)}}`;
      mark(leaf, -1);
      return `{"op":"remove","path":${JSON.stringify(highestAbsent(leaf).pointer)}}`;
    }
    if (value === undefined) return '';
    const top = highestAbsent(leaf);
    let wrapped = JSON.stringify(value);
    for (let n = leaf; n !== top; n = n.parent!) wrapped = `{${JSON.stringify(n.steps[n.steps.length - 1])}:${wrapped}}`;
    mark(leaf, 1);
    return `{"op":"add","path":${JSON.stringify(top.pointer)},"value":${wrapped}}`;
  }

  /**
   * The diff within the view from an older position whose restricted value
   * is not kept (a resume, a held-back connection's catch-up), given the
   * compacted operations from there to now. Operations strictly inside
   * view paths that exist now pass through; any operation at or above a
   * view path means the whole restricted value (`undefined`).
   */
  diffSince(ops: readonly CompactedOp[]): string | undefined {
    let text = '';
    for (const op of ops) {
      const segments = op.segments;
      let node = this.#root;
      for (let i = 0; ; i++) {
        if (i === segments.length) return undefined;
        if (node.children === null) {
          if (node.present !== 0) text += ',' + op.text;
          break;
        }
        const next = node.children.get(String(segments[i]));
        if (next === undefined) break;
        node = next;
      }
    }
    return text === '' ? '[]' : '[' + text.slice(1) + ']';
  }

  /**
   * The diff from what `from`'s connections have to what this view's have,
   * both at `data`: only what differs, recursing where both hold way objects.
   */
  diffFromView(from: View, data: JsonValue): string {
    if (!this.#rootObject) return '[]';
    const ops: string[] = [];
    transition(from.#root, this.#root, data, ops);
    return '[' + ops.join(',') + ']';
  }

  #node(steps: ViewPath, parent: ViewNode | null, way: boolean): ViewNode {
    return { steps, pointer: toPointer(steps), parent, children: way ? new Map() : null, view: this, present: 0 };
  }
}

/** `list` and `item` joined by a comma (either may be empty). */
function append(list: string, item: string): string {
  return item === '' ? list : list === '' ? item : list + ',' + item;
}

/** Adds `delta` to the presence of `leaf` and every node above it. */
function mark(leaf: ViewNode, delta: number): void {
  for (let n: ViewNode | null = leaf; n !== null; n = n.parent) n.present += delta;
}

/** The highest node above `leaf` (or `leaf`), below the root, that the connections do not have. */
function highestAbsent(leaf: ViewNode): ViewNode {
  let top = leaf;
  for (let n = leaf.parent; n !== null && n.parent !== null && n.present === 0; n = n.parent) top = n;
  return top;
}

function nodeText(node: ViewNode, value: JsonValue | undefined): string {
  if (node.children === null) return JSON.stringify(value);
  let text = '';
  for (const [key, child] of node.children) {
    if (child.present === 0) continue;
    text += ',' + JSON.stringify(key) + ':' + nodeText(child, ownChild(value as { [key: string]: JsonValue }, key));
  }
  return text === '' ? '{}' : '{' + text.slice(1) + '}';
}

/** Operations taking way node `a`'s restricted value to way node `b`'s (same place, both present). */
function transition(a: ViewNode, b: ViewNode, value: JsonValue | undefined, ops: string[]): void {
  const keys = new Set([...a.children!.keys(), ...b.children!.keys()]);
  for (const key of keys) {
    const ca = a.children!.get(key);
    const cb = b.children!.get(key);
    const had = ca !== undefined && ca.present !== 0;
    const has = cb !== undefined && cb.present !== 0;
    if (!had && !has) continue;
    if (!has) {
      ops.push(`{"op":"remove","path":${JSON.stringify(ca!.pointer)}}`);
      continue;
    }
    const child = ownChild(value as { [key: string]: JsonValue }, key);
    if (had && ca!.children === null && cb!.children === null) continue;
    if (had && ca!.children !== null && cb!.children !== null) transition(ca!, cb!, child, ops);
    else ops.push(`{"op":"${had ? 'replace' : 'add'}","path":${JSON.stringify(cb!.pointer)},"value":${nodeText(cb!, child)}}`);
  }
}
