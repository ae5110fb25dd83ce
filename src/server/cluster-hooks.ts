/**
 * What a server needs of a cluster (`listen({ cluster })`), as an
 * interface: the server never imports `koa-juggler/cluster` (nor its Redis
 * client), so a single-process user loads none of it. `redisCluster()`'s
 * result implements it; see docs/cluster.md.
 */
import { InvalidArgumentError } from '../errors.js';
import type { JsonValue } from '../json.js';
import { Storage } from '../state/storage.js';
import type { SessionBackend } from './session-backend.js';

/** What a cluster tells each server listening on it. */
export interface ClusterServerHooks {
  /** Cluster events and errors: outages, resets, rejected writes (kind `'cluster'`). */
  onError(err: Error): void;
  /** A broadcast reached its place in the log on this node: flush, then notify every connection. */
  onBroadcast(name: string, data: JsonValue): void;
  /** Whether this node's state may be behind (Redis unreachable, resyncing) changed. */
  onStatus(stale: boolean): void;
  /**
   * The server's `autoflushDelay`: its clients see changes at most this
   * often, so a node may read the log in batches within a fraction of it.
   */
  readonly autoflushDelay: number | null;
}

/** A node's figures, as `/readyz`, `/metrics` and the admin page show them. */
export interface ClusterOperating {
  /** Whether the node holds the cluster's state (loaded, not resyncing). */
  ready: boolean;
  /** Whether Redis answers now. */
  connected: boolean;
  /** Log entries in Redis this node has not applied yet (as of the last heartbeat). */
  lag: number;
  /** Writes of this node that Redis has not acknowledged yet. */
  pendingWrites: number;
}

/** The cluster as a server sees it. */
export interface ServerCluster {
  /** The replicated state: every connection's `conn.state`. */
  readonly state: Storage;
  /** Whether this node's state may be behind now. */
  readonly stale: boolean;
  /** @internal registers a server; returns the function that unregisters it */
  joinServer(hooks: ClusterServerHooks): () => void;
  /** @internal appends a broadcast to the log; resolves once this node delivered it */
  broadcast(name: string, data: JsonValue): Promise<void>;
  /** @internal settles once this node's earlier writes are applied or failed */
  settled(): Promise<void>;
  /** @internal what `/readyz`, `/metrics` and the admin page show of this node, read when asked */
  operating(): ClusterOperating;
  /** @internal the live nodes and how far each is behind the log, for the admin page */
  nodes(): Promise<{ id: string; self: boolean; lag: number | null }[]>;
  /**
   * @internal null when this node can resume a client from `version` now;
   * else settles (never rejects) once it applied that version or a bound passed
   */
  catchUp?(version: string): Promise<void> | null;
  /** @internal where the sessions and keyed results of servers on this cluster live (its Redis) */
  sessionBackend(): SessionBackend;
}

/**
 * Checks the `cluster` option.
 * @throws InvalidArgumentError when it is not a cluster from `redisCluster()`
 */
export function checkCluster(name: string, value: unknown): ServerCluster {
  const c = value as Partial<ServerCluster> | null;
  if (c === null || typeof c !== 'object' || !(c.state instanceof Storage) || typeof c.joinServer !== 'function' || typeof c.broadcast !== 'function') {
    throw new InvalidArgumentError(name, 'a cluster from redisCluster() (koa-juggler/cluster)', value);
  }
  return c as ServerCluster;
}
