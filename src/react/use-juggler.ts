/**
 * `useJuggler(live, selector?)`: a client's state in a React component, on
 * `useSyncExternalStore`, re-rendering only when the selected part changes.
 */
import { useCallback, useMemo, useSyncExternalStore } from 'react';
import type { Client } from '../client/client.js';
import type { ReconnectingClient } from '../client/reconnect.js';
import { InvalidArgumentError } from '../errors.js';
import type { JsonValue } from '../json.js';
import type { ApiMap, StateOf, UntypedApi } from '../protocol/api-map.js';

/** What the hooks take: a client from `connect()` or `reconnect()` (typed by its API map, README "Types"). */
export type JugglerSource<Api extends ApiMap = UntypedApi> = Client<Api> | ReconnectingClient<Api>;

/**
 * Checks that `live` is a client the hooks can follow.
 * @throws InvalidArgumentError naming `live`
 */
export function checkSource(live: unknown, needSnapshots: boolean): void {
  const l = live as Partial<JugglerSource> | null;
  if (l === null || typeof l !== 'object' || typeof l.onChange !== 'function' || typeof l.onStatusChange !== 'function') {
    throw new InvalidArgumentError('live', 'a client from connect() or reconnect() of koa-juggler/client', live);
  }
  if (needSnapshots && l.snapshots !== true) {
    throw new InvalidArgumentError(
      'live',
      'a client made with { snapshots: true } (without it the state is changed in place, keeps its identity, and React would not see the changes)',
    );
  }
}

/**
 * The state of a koa-juggler client, or the part `selector` picks from it,
 * for a React 18+ component. The component re-renders when the selection
 * changes (compared with `Object.is`), never for changes elsewhere in the
 * state: with `snapshots: true` an unchanged part of the state keeps its
 * identity, so a selector that returns a part of it (or a primitive) is
 * cheap and precise. A selector that builds a new object each time makes
 * the component re-render on every diff: select the parts and combine them
 * in the component (or memoise). Pass a stable selector (defined outside
 * the component or with `useCallback`) to skip re-running it on renders.
 *
 * Works with `connect()` and `reconnect()` clients; with `reconnect()`
 * the state is kept across reconnects (see `useJugglerStatus` for `stale`).
 *
 * @param live a client made with `snapshots: true`
 * @param selector picks what the component needs; it gets `null` before the first state
 * @returns `selector(state)`, or the state without a selector
 * @throws InvalidArgumentError when `live` is not a client, or was made without `snapshots: true`
 *
 * @example
 * const live = reconnect('/ws', { snapshots: true });
 * function Point({ id }: { id: string }) {
 *   const value = useJuggler(live, useCallback((s) => (s as Plant | null)?.points[id]?.value, [id]));
 *   return <td>{value}</td>;
 * }
 */
export function useJuggler<Api extends ApiMap = UntypedApi>(live: JugglerSource<Api>): StateOf<Api> | null;
/** The part of the state `selector` picks; the component re-renders only when that changes (`Object.is`). */
export function useJuggler<T, Api extends ApiMap = UntypedApi>(live: JugglerSource<Api>, selector: (state: StateOf<Api> | null) => T): T;
// The map is types only: the body sees every client as the untyped one.
export function useJuggler<T>(live: JugglerSource<any>, selector?: (state: JsonValue) => T): T | JsonValue {
  checkSource(live, true);
  if (selector !== undefined && typeof selector !== 'function') throw new InvalidArgumentError('selector', 'a function or undefined', selector);
  const subscribe = useCallback((onStoreChange: () => void) => live.onChange(() => onStoreChange()), [live]);
  const getSelection = useMemo(() => selectionOf(live, selector), [live, selector]);
  return useSyncExternalStore(subscribe, getSelection, getSelection);
}

/**
 * A getSnapshot for `useSyncExternalStore` that runs `selector` once per
 * state and returns the previous result while the new one is `Object.is`
 * equal, so that React sees no change.
 */
function selectionOf<T>(live: JugglerSource, selector: ((state: JsonValue) => T) | undefined): () => T | JsonValue {
  let known = false;
  let lastState: JsonValue = null;
  let lastSelection: T | JsonValue = null;
  return () => {
    const state = live.state;
    if (known && state === lastState) return lastSelection;
    const selection = selector === undefined ? state : selector(state);
    lastState = state;
    if (!known || !Object.is(selection, lastSelection)) lastSelection = selection;
    known = true;
    return lastSelection;
  };
}
