/**
 * The members of a fan-out grouped by what they see: those that see
 * everything, and those of each distinct view. A flush visits the first
 * group and the groups of the views it touched, so a change costs in
 * proportion to the connections that may get it, never to every member
 * (docs/views.md, "Costs").
 */
import type { View } from './view.js';

/**
 * Members grouped by view (null: everything).
 *
 * @example
 * const groups = new ViewMembers<Member>()
 * groups.add(member, view)
 * for (const m of groups.of(view)) ...   // the members with that view
 */
export class ViewMembers<M> {
  /** The members that see everything. */
  readonly unviewed = new Set<M>();
  readonly #byView = new Map<View, Set<M>>();

  /** Adds `member` to the group of `view`. */
  add(member: M, view: View | null): void {
    if (view === null) {
      this.unviewed.add(member);
      return;
    }
    let group = this.#byView.get(view);
    if (group === undefined) this.#byView.set(view, (group = new Set()));
    group.add(member);
  }

  /** Removes `member` from the group of `view`; an emptied view group is dropped. */
  remove(member: M, view: View | null): void {
    if (view === null) {
      this.unviewed.delete(member);
      return;
    }
    const group = this.#byView.get(view);
    if (group === undefined) return;
    group.delete(member);
    if (group.size === 0) this.#byView.delete(view);
  }

  /** The members with `view` (none: an empty iterable). */
  of(view: View): Iterable<M> {
    return this.#byView.get(view) ?? EMPTY;
  }

  /** Forgets every member. */
  clear(): void {
    this.unviewed.clear();
    this.#byView.clear();
  }
}

const EMPTY: ReadonlySet<never> = new Set();
