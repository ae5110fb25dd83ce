/**
 * `koa-juggler/react`: React 18+ hooks over a koa-juggler client. React is
 * an optional peer dependency of the package, imported by this entry only.
 *
 * @example
 * import { reconnect } from 'koa-juggler/client';
 * import { useJuggler, useJugglerStatus } from 'koa-juggler/react';
 *
 * const live = reconnect('/ws', { snapshots: true });
 * function Count() {
 *   const count = useJuggler(live, (s) => (s as { count: number } | null)?.count);
 *   const { status } = useJugglerStatus(live);
 *   return <p>{count} ({status})</p>;
 * }
 */
export { useJuggler, type JugglerSource } from './use-juggler.js';
export { useJugglerStatus, type JugglerStatus } from './use-juggler-status.js';
export type { LinkStatus } from '../client/reconnect.js';
