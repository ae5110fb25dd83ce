/**
 * The views of one state channel and the path index that routes each
 * flush's operations to the views they touch: a trie of view path steps
 * where every view path is registered at its node. An operation walks the
 * trie along its own path; the view paths it passes are the ones it is
 * inside of, and the ones under the node where it ends are the ones it
 * replaces. A change costs in proportion to the views it touches, never
 * to the number of views.
 */
import type { JsonValue } from '../json.js';
import type { CompactedOp } from './compact.js';
import { View, type ViewNode, type ViewWork } from './view.js';
import { viewKey, type ViewPath } from './view-paths.js';

interface IndexNode {
  /** View paths (of any view) ending here. */
  ends: ViewNode[];
  children: Map<string, IndexNode> | null;
}

/**
 * The distinct views in use, shared by every member with an equal view.
 *
 * @example
 * const views = new ViewIndex()
 * const view = views.acquire([['sites', 'a']], storage.data)
 * const diffs = views.flush(ops, storage.data)  // Map: view -> its diff text, only views touched
 * views.release(view)
 */
export class ViewIndex {
  readonly #views = new Map<string, View>();
  readonly #root: IndexNode = { ends: [], children: null };

  /** Distinct views in use. */
  get size(): number {
    return this.#views.size;
  }

  /** The view for canonical `paths`, made (with its presence at `data`) if none is in use; counts one more user. */
  acquire(paths: readonly ViewPath[], data: JsonValue): View {
    const key = viewKey(paths);
    let view = this.#views.get(key);
    if (view === undefined) {
      view = new View(paths, data);
      this.#views.set(key, view);
      for (const leaf of view.leaves) this.#nodeAt(leaf.steps, true)!.ends.push(leaf);
    }
    view.users += 1;
    return view;
  }

  /** One user fewer; the last one removes the view from the index. */
  release(view: View): void {
    view.users -= 1;
    if (view.users > 0 || this.#views.get(view.key) !== view) return;
    this.#views.delete(view.key);
    for (const leaf of view.leaves) {
      const node = this.#nodeAt(leaf.steps, false)!;
      node.ends.splice(node.ends.indexOf(leaf), 1);
      // Empty branches stay: a dashboard that comes back to a view finds its nodes, and they are few.
    }
  }

  /**
   * Routes one flush's operations and returns the diff of every view they
   * touch (views untouched are absent; a touched view may get `'[]'`),
   * moving each touched view's presence to `data`.
   */
  flush(ops: readonly CompactedOp[], data: JsonValue): Map<View, string> {
    const touched: View[] = [];
    for (let k = 0; k < ops.length; k++) {
      const op = ops[k]!;
      const segments = op.segments;
      if (segments.length === 0) {
        for (const view of this.#views.values()) touch(view, touched).root = true;
        continue;
      }
      let node = this.#root;
      for (let i = 0; ; i++) {
        if (i === segments.length) {
          // The operation replaces or removes everything under here.
          forEachBelow(node, (leaf) => (touch(leaf.view, touched).resets ??= new Set()).add(leaf));
          break;
        }
        const ends = node.ends;
        for (let e = 0; e < ends.length; e++) {
          const leaf = ends[e]!;
          const work = touch(leaf.view, touched);
          work.passes[work.passCount++] = leaf;
          work.passes[work.passCount++] = op.text;
        }
        if (node.children === null) break;
        const segment = segments[i]!;
        const next = node.children.get(typeof segment === 'string' ? segment : String(segment));
        if (next === undefined) break;
        node = next;
      }
    }
    const diffs = new Map<View, string>();
    for (const view of touched) diffs.set(view, view.flushDiff(data));
    return diffs;
  }

  /** Recomputes every view from `data` (the record no longer held a flush's changes: everyone gets a whole value). */
  refreshAll(data: JsonValue): void {
    for (const view of this.#views.values()) view.refresh(data);
  }

  /** Forgets every view. */
  clear(): void {
    this.#views.clear();
    this.#root.ends = [];
    this.#root.children = null;
  }

  #nodeAt(steps: ViewPath, create: boolean): IndexNode | undefined {
    let node = this.#root;
    for (const step of steps) {
      let next = node.children?.get(step);
      if (next === undefined) {
        if (!create) return undefined;
        next = { ends: [], children: null };
        (node.children ??= new Map()).set(step, next);
      }
      node = next;
    }
    return node;
  }
}

/** `view`, listed in `touched` the first time the flush under way routes to it. */
function touch(view: View, touched: View[]): ViewWork {
  if (!view.touched) {
    view.touched = true;
    touched.push(view);
  }
  return view;
}

/** Every view path registered at `top` or under it. */
function forEachBelow(top: IndexNode, visit: (leaf: ViewNode) => void): void {
  const stack = [top];
  while (stack.length > 0) {
    const node = stack.pop()!;
    for (const leaf of node.ends) visit(leaf);
    if (node.children !== null) for (const next of node.children.values()) stack.push(next);
  }
}
