/**
 * `useJugglerStatus(live)`: whether a client is connected and whether its
 * state may be behind, for a React component.
 */
import { useCallback, useMemo, useSyncExternalStore } from 'react';
import type { LinkStatus } from '../client/reconnect.js';
import { checkSource, type JugglerSource } from './use-juggler.js';
import type { ApiMap, UntypedApi } from '../protocol/api-map.js';

/** What `useJugglerStatus` returns; the same object until something in it changes. */
export interface JugglerStatus {
  /**
   * `'connecting'` before the first connection (reconnect()),
   * `'connected'`, `'reconnecting'` between connections (reconnect()),
   * `'closed'` once it stopped (for a connect() client: once its one
   * connection ended).
   */
  status: LinkStatus;
  /**
   * Whether the state shown may be behind the server's: after a
   * disconnect until the new connection's first state (reconnect()), or
   * while the server says so (a cluster node that lost Redis).
   */
  stale: boolean;
}

/**
 * The connection status and `stale` of a koa-juggler client, re-rendering
 * the component when either changes. Any client will do (`snapshots` is
 * not needed for this one).
 *
 * @param live a client from `connect()` or `reconnect()`
 * @throws InvalidArgumentError when `live` is not such a client
 *
 * @example
 * function Banner() {
 *   const { status, stale } = useJugglerStatus(live);
 *   if (status === 'reconnecting') return <p>Reconnecting…</p>;
 *   return stale ? <p>Data may be out of date</p> : null;
 * }
 */
export function useJugglerStatus<Api extends ApiMap = UntypedApi>(live: JugglerSource<Api>): JugglerStatus {
  checkSource(live, false);
  const subscribe = useCallback((onStoreChange: () => void) => live.onStatusChange(onStoreChange), [live]);
  const getStatus = useMemo(() => {
    let last: JugglerStatus | null = null;
    return () => {
      const status: LinkStatus = 'linkStatus' in live ? live.linkStatus : live.status === 'open' ? 'connected' : 'closed';
      const stale = live.stale;
      if (last === null || last.status !== status || last.stale !== stale) last = { status, stale };
      return last;
    };
  }, [live]);
  return useSyncExternalStore(subscribe, getStatus, getStatus);
}
