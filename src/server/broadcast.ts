/**
 * `server.broadcast()` and the cluster's messages to a server's
 * connections. A broadcast reaches each connection after the state as of
 * its place (each connection's pending diff is flushed first), as an
 * ordinary `notify`, so plain connections get it too; views never filter
 * it. A cluster node's staleness goes to extension connections as a
 * `status` message, on change only (docs/protocol.md, "Status").
 */
import { InvalidArgumentError } from '../errors.js';
import type { JsonValue } from '../json.js';
import type { ClusterServerHooks, ServerCluster } from './cluster-hooks.js';
import type { Connection } from './connection.js';
import type { ErrorKind } from './connection-config.js';

/**
 * Checks a broadcast's arguments.
 * @throws InvalidArgumentError when `name` is not a string or JSON cannot carry `data`
 */
export function checkBroadcast(name: unknown, data: unknown): void {
  if (typeof name !== 'string') throw new InvalidArgumentError('name', 'a string', name);
  let text: string | undefined;
  try {
    text = JSON.stringify(data);
  } catch {
    text = undefined;
  }
  if (text === undefined) throw new InvalidArgumentError('data', 'a JSON value');
}

/** Flushes each connection's pending state, then sends it the notification. */
export function deliverBroadcast(connections: Iterable<Connection>, name: string, data: JsonValue): void {
  for (const conn of connections) {
    // Before its welcome a connection gets nothing (its first message must be the welcome).
    if (!conn.flushNow()) continue;
    // A connection that closes meanwhile just misses it.
    conn.notify(name, data).catch(() => {});
  }
}

/**
 * Registers a server with its cluster: broadcasts, staleness and cluster
 * errors reach its connections and its `onError`.
 * @returns the function that unregisters it
 */
export function joinCluster(
  cluster: ServerCluster,
  connections: () => Iterable<Connection>,
  onError: (err: Error, context: { conn: Connection | null; kind: ErrorKind }) => void,
  autoflushDelay: number | null,
): () => void {
  const hooks: ClusterServerHooks = {
    autoflushDelay,
    onError: (err) => {
      try {
        onError(err, { conn: null, kind: 'cluster' });
      } catch {
        // The user's onError must not stop the cluster.
      }
    },
    onBroadcast: (name, data) => deliverBroadcast(connections(), name, data),
    onStatus: (stale) => {
      for (const conn of connections()) conn.sendStatus(stale);
    },
  };
  return cluster.joinServer(hooks);
}
