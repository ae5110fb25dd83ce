/**
 * A running juggler server: the WebSocket endpoint on an HTTP(S) server
 * and the open connections. Made by {@link listen} (which owns its HTTP
 * server) or {@link attach} (on the user's).
 */
import type { Server as HttpServer, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type Koa from 'koa';
import type { Registry } from 'prom-client';
import type { WebSocket, WebSocketServer } from 'ws';
import { Storage } from '../state/storage.js';
import { StateChannel } from '../state/state-channel.js';
import { CLOSE_GOING_AWAY, CLOSE_INTERNAL_ERROR, CLOSE_SERVICE_RESTART } from '../transport/close-codes.js';
import { messageEncoder } from '../transport/transport.js';
import type { AdminClusterNode, ServerCounters } from './admin/admin-sources.js';
import type { AdminPage } from './admin/admin-page.js';
import { BufferBudget } from './buffer-budget.js';
import type { ConnectionConfig } from './connection-config.js';
import type { StateSources } from './connection-state.js';
import { Connection } from './connection.js';
import { resolveDrainTimeout, spreadOver, type DrainOptions } from './drain.js';
import { toError } from './handler-result.js';
import type { ServerMetrics } from './metrics/server-metrics.js';
import { connectionConfig, type ResolvedOptions } from './options.js';
import { Readiness, type ReadinessCheck, type ReadinessReport } from './readiness.js';
import { remoteAddress } from './remote.js';
import type { Sessions } from './session-backend.js';
import type { ServerCluster } from './cluster-hooks.js';
import { memorySessions } from './sessions.js';
import { checkBroadcast, deliverBroadcast, joinCluster } from './broadcast.js';
import type { JsonValue } from '../json.js';
import type { NotifyData, NotifyName, UntypedApi } from '../protocol/api-map.js';
import { guardUpgrade, isWsPath, type GuardResult, type UpgradeGuardOptions } from './upgrade.js';

/** @internal what listen() and attach() hand the server */
export interface ServerParts {
  app: Koa;
  http: HttpServer;
  wss: WebSocketServer;
  options: ResolvedOptions;
  guard: Omit<UpgradeGuardOptions, 'load' | 'closing'>;
  /**
   * Whether the HTTP server is ours (listen()): then close() closes it and
   * upgrades on other paths are refused with 404. Attached, they are left
   * for the other upgrade listeners of the user's server.
   */
  ownsHttp: boolean;
  /** The admin page, when the `admin` option is on. */
  admin: AdminPage | null;
  /** The metrics (`metrics: true`), or null. */
  metrics: ServerMetrics | null;
}

/**
 * A running koa-juggler server.
 *
 * @example
 * const server = await listen({ port: 0, onRequest: (conn, name, data) => data });
 * console.log(server.port);
 * await server.close();
 */
export class Server<Api = UntypedApi> {
  /** The Koa application, for users who compose further. */
  readonly app: Koa;
  readonly #http: HttpServer;
  readonly #wss: WebSocketServer;
  readonly #options: ResolvedOptions;
  readonly #config: ConnectionConfig<Connection>;
  readonly #ownsHttp: boolean;
  readonly #guard: UpgradeGuardOptions;
  readonly #connections = new Set<Connection>();
  readonly #upgrading = new Set<Duplex>();
  readonly #sharedChannel: StateChannel | null;
  readonly #sessions: Sessions | null;
  // One for every state channel: per connection-own state it would cost a closure each.
  #encode: ReturnType<typeof messageEncoder> | undefined;
  readonly #stateSources: StateSources;
  readonly #budget: BufferBudget;
  readonly #counters: ServerCounters = { requests: 0 };
  readonly #admin: AdminPage | null;
  /** @internal the cluster's nodes for the admin page (the cluster layer sets it) */
  adminCluster: (() => AdminClusterNode[] | Promise<AdminClusterNode[]>) | null = null;
  #closing: Promise<void> | null = null;
  readonly #leaveCluster: (() => void) | null;
  #draining: Promise<void> | null = null;
  // Ends a drain's pacing when close() takes over.
  readonly #stopDrain = new AbortController();
  readonly #metrics: ServerMetrics | null;
  readonly #readiness = new Readiness(() => this.#draining !== null || this.#closing !== null);

  /** @internal use {@link listen} or {@link attach} */
  constructor(parts: ServerParts) {
    this.app = parts.app;
    this.#http = parts.http;
    this.#wss = parts.wss;
    this.#options = parts.options;
    this.#metrics = parts.metrics;
    this.#config = connectionConfig(parts.options, parts.metrics?.requests ?? null);
    this.#ownsHttp = parts.ownsHttp;
    this.#guard = {
      ...parts.guard,
      load: () => this.#connections.size + this.#upgrading.size,
      closing: () => this.#closing !== null || this.#draining !== null,
    };
    const o = parts.options;
    this.#budget = new BufferBudget(o.maxBufferedBytes, () => this.#holders());
    const shared = o.cluster?.state ?? o.state;
    this.#sharedChannel = shared ? this.#newChannel(shared) : null;
    this.#stateSources = { sharedChannel: this.#sharedChannel, newChannel: () => this.#newChannel(new Storage()) };
    const cluster = o.cluster;
    if (cluster) {
      this.#stateSources.settled = () => cluster.settled();
      this.#stateSources.stale = () => cluster.stale;
      if (cluster.catchUp) this.#stateSources.catchUp = (version) => cluster.catchUp!(version);
    }
    this.#leaveCluster = cluster ? joinCluster(cluster, () => this.#connections, o.onError, o.autoflushDelay) : null;
    if (cluster) this.#operateCluster(cluster);
    this.#sessions = o.extensions
      ? (o.sessionBackend ?? memorySessions)({
          secret: o.sessionSecret,
          sessionTimeout: o.sessionTimeout,
          maxSessions: o.maxSessions,
          newChannel: this.#sharedChannel ? null : () => this.#newChannel(new Storage()),
        })
      : null;
    this.#admin = parts.admin;
    this.#admin?.attach({
      connections: () => this.#connections,
      sessions: this.#sessions,
      sharedChannel: this.#sharedChannel,
      budget: this.#budget,
      counters: this.#counters,
      cluster: () => (this.adminCluster === null ? null : this.adminCluster()),
    });
    this.#metrics?.setSource({
      sessions: () => this.#sessions?.size ?? 0,
      stateLength: () => this.#sharedChannel?.stats.wholeValueLength ?? 0,
    });
    this.#http.on('upgrade', this.#upgradeListener);
  }

  /** The bound TCP port. */
  get port(): number {
    const address = this.#http.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  /** @internal bytes of incomplete incoming messages held by all connections (bounded by `maxBufferedBytes`) */
  get bufferedBytes(): number {
    return this.#budget.total;
  }

  /** The open connections. */
  get connections(): Iterable<Connection<Api>> {
    return this.#connections.values() as Iterable<Connection<never>>;
  }

  /**
   * Stops listening and closes every connection with 1001, destroying those
   * that have not finished closing within `shutdownTimeout`. Resolves when
   * all are closed and nothing (timer or socket) is left behind. Safe to
   * call twice: the second call returns the same promise. A server made by
   * {@link attach} leaves the HTTP server open and only removes its
   * upgrade listener.
   */
  close(): Promise<void> {
    return (this.#closing ??= this.#shutdown());
  }

  /** The cluster's part of `/readyz` (not ready before the node holds the state; ready while Redis is down, since it still serves), `/metrics` and the admin page. */
  #operateCluster(cluster: ServerCluster): void {
    this.#readiness.add(() => {
      const { ready, connected } = cluster.operating();
      return { ready, details: { cluster: !ready ? 'loading' : connected ? 'up' : 'down' } };
    });
    this.#metrics?.setClusterSource({
      redisUp: () => cluster.operating().connected,
      logLagEntries: () => cluster.operating().lag,
      pendingWrites: () => cluster.operating().pendingWrites,
    });
    this.adminCluster = () => cluster.nodes();
  }

  /**
   * Sends a notification to every connection: of this server, or with
   * `cluster`, of every node (it travels in the log). Each connection first
   * gets the state as of the broadcast (its pending diff is flushed), then
   * the notification; plain connections get it as an ordinary `notify`.
   *
   * @returns a promise resolved once this node delivered it (at once without a cluster)
   * @throws InvalidArgumentError when `name` is not a string or JSON cannot carry `data`
   * @throws ClusterUnavailableError (rejection) when Redis did not take it within `writeTimeout`
   * @example
   * await server.broadcast('alarm', { level: 2 });
   */
  broadcast<N extends NotifyName<Api>>(name: N, data?: NotifyData<Api, N>): Promise<void>;
  broadcast(name: string, data: JsonValue = null): Promise<void> {
    checkBroadcast(name, data);
    const cluster = this.#options.cluster;
    if (cluster) return cluster.broadcast(name, data);
    deliverBroadcast(this.#connections, name, data);
    return Promise.resolve();
  }

  /**
   * Drains the server before a restart: refuses new connections (the
   * upgrade gets 503, `/readyz` 503), closes the open ones with 1012
   * (Service Restart) one after another, spread evenly over `timeout`, so
   * that their clients reconnect to other nodes as a trickle, and resolves
   * once they have closed (or `shutdownTimeout` after the last close frame;
   * `close()` then cuts what is left). Call `close()` after it. Safe to
   * call twice: the second call returns the same promise.
   * @throws InvalidArgumentError for a bad `timeout`
   * @example
   * process.once('SIGTERM', async () => {
   *   await server.drain({ timeout: 30000 });
   *   await server.close();
   * });
   */
  drain(options?: DrainOptions): Promise<void> {
    const timeout = resolveDrainTimeout(options);
    return (this.#draining ??= this.#drain(timeout));
  }

  /** What `GET /readyz` answers: `{ ready }` and the details of the readiness checks. */
  readiness(): ReadinessReport {
    return this.#readiness.report();
  }

  /**
   * @internal adds a readiness check (the cluster wiring: not ready before
   * the node holds the state); returns the function that removes it
   */
  addReadinessCheck(check: ReadinessCheck): () => void {
    return this.#readiness.add(check);
  }

  /** The prom-client registry `GET /metrics` serves (`metrics: true`), or null; applications may add their own metrics to it. */
  get metrics(): Registry | null {
    return this.#metrics?.registry ?? null;
  }

  /** @internal the metrics' counters (the cluster wiring adds its gauges with `setClusterSource`), or null */
  get metricsHub(): ServerMetrics | null {
    return this.#metrics;
  }

  /** `await using server = await listen(...)` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #drain(timeout: number): Promise<void> {
    const connections = [...this.#connections];
    await spreadOver(connections, timeout, (conn) => conn.closeWith(CLOSE_SERVICE_RESTART, 'server restarting'), this.#stopDrain.signal);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.#options.shutdownTimeout)));
    await Promise.race([Promise.all(connections.map((conn) => conn.closed)), bound]);
    clearTimeout(timer);
  }

  async #shutdown(): Promise<void> {
    this.#leaveCluster?.();
    this.#stopDrain.abort();
    const http = this.#http;
    let httpClosed: Promise<void> = Promise.resolve();
    if (this.#ownsHttp) {
      httpClosed = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeIdleConnections();
    } else {
      http.off('upgrade', this.#upgradeListener);
    }
    for (const socket of this.#upgrading) socket.destroy();
    this.#admin?.close();
    const connections = [...this.#connections];
    for (const conn of connections) conn.closeWith(CLOSE_GOING_AWAY, 'server shutting down');
    const all = Promise.all(connections.map((conn) => conn.closed));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), this.#options.shutdownTimeout);
    });
    const late = await Promise.race([all.then(() => false), timedOut]);
    clearTimeout(timer);
    if (late) for (const conn of this.#connections) conn.destroy();
    await all;
    this.#sessions?.close();
    this.#sharedChannel?.close();
    if (this.#ownsHttp) http.closeAllConnections();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
    await httpClosed;
  }

  *#holders(): Iterable<Connection['incoming']> {
    for (const conn of this.#connections) yield conn.incoming;
  }

  #newChannel(storage: Storage): StateChannel {
    const { autoflushDelay, maxSegmentSize, framing, historySize, onError } = this.#options;
    return new StateChannel(storage, {
      autoflushDelay,
      encode: (this.#encode ??= messageEncoder({ maxSegmentSize, framing })),
      historySize,
      onFlushed: this.#metrics?.onFlushed ?? null,
      onError: (err, subscriber) => {
        // A state message that could not go out leaves that client behind for good: ours to close.
        const conn = subscriber as Connection;
        try {
          onError(toError(err), { conn, kind: 'state' });
        } catch {
          // An onError that throws must not stop the fan-out to the other connections.
        }
        conn.closeWith(CLOSE_INTERNAL_ERROR, 'internal server error');
      },
    });
  }

  readonly #upgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    // On the user's server, other paths belong to its other upgrade listeners.
    if (!this.#ownsHttp && !isWsPath(req.url, this.#guard.wsPath)) return;
    this.#onUpgrade(req, socket, head);
  };

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // A socket error before the upgrade completes must not become an uncaught exception.
    socket.on('error', destroySocket);
    this.#upgrading.add(socket);
    let verdict: GuardResult | Promise<GuardResult>;
    try {
      verdict = guardUpgrade(req, socket, this.#guard);
    } catch (err) {
      verdict = this.#guardFailed(err, socket);
    }
    if (verdict instanceof Promise) {
      verdict.then(
        (result) => this.#upgrade(req, socket, head, result),
        (err: unknown) => this.#upgrade(req, socket, head, this.#guardFailed(err, socket)),
      );
    } else {
      this.#upgrade(req, socket, head, verdict);
    }
  }

  #guardFailed(err: unknown, socket: Duplex): null {
    this.#options.onError(toError(err), { conn: null, kind: 'http' });
    socket.destroy();
    return null;
  }

  /** Completes an upgrade the guard has decided on (at once, or once `authenticate` answered). */
  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, verdict: GuardResult): void {
    this.#upgrading.delete(socket);
    if (verdict === null || socket.destroyed) return;
    if (this.#guard.closing()) {
      socket.destroy();
      return;
    }
    // ws writes the 101 response and calls back at once, and a connection
    // without onConnection sends its first state there: corked, the two
    // leave in one write instead of two (a system call per join saved).
    socket.cork();
    try {
      this.#wss.handleUpgrade(req, socket, head, (ws) => {
        socket.off('error', destroySocket);
        try {
          this.#accept(ws, req, verdict.user);
        } catch (err) {
          // A bug of ours while setting the connection up: 1011, never an exception inside ws.
          this.#options.onError(toError(err), { conn: null, kind: 'internal' });
          ws.close(CLOSE_INTERNAL_ERROR, 'internal server error');
        }
      });
    } finally {
      socket.uncork();
    }
  }

  #accept(ws: WebSocket, req: IncomingMessage, user: string | null): void {
    const options = this.#options;
    const conn = new Connection(ws, {
      config: this.#config,
      state: this.#stateSources,
      sessions: this.#sessions,
      user,
      remote: remoteAddress(req, options.trustProxy),
      request: { url: req.url ?? '/', headers: withoutCredentials(req.headers) },
      socket: req.socket,
      budget: this.#budget,
      counters: this.#counters,
      onClosed: (closed) => this.#connections.delete(closed),
    });
    this.#connections.add(conn);
    const metrics = this.#metrics;
    if (metrics !== null) {
      metrics.opened(conn, req.socket as Socket);
      void conn.closed.then(({ code }) => metrics.closed(conn, code));
    }
    conn.start();
  }
}

/** The upgrading socket's error listener: one function for all (emitters call it with `this` = the socket). */
function destroySocket(this: Duplex): void {
  this.destroy();
}

/**
 * The upgrade headers a connection keeps for its lifetime, minus the
 * credentials: `conn.user` says who authenticated, and a Basic password
 * should not sit in memory (or a heap snapshot) for as long as a dashboard
 * stays open.
 */
function withoutCredentials(headers: IncomingMessage['headers']): IncomingMessage['headers'] {
  if (headers.authorization === undefined && headers['proxy-authorization'] === undefined) return headers;
  const { authorization: _a, 'proxy-authorization': _p, ...rest } = headers;
  return rest;
}
