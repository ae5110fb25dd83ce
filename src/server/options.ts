/**
 * The options of {@link listen}: one exported interface with documented
 * defaults, merged and validated in one place.
 */
import type { IncomingMessage } from 'node:http';
import type { SecureContextOptions, TlsOptions } from 'node:tls';
import type Koa from 'koa';
import { InvalidArgumentError } from '../errors.js';
import type { JsonValue } from '../json.js';
import { Storage } from '../state/storage.js';
import type { ConnectionConfig, ErrorKind } from './connection-config.js';
import type { Connection } from './connection.js';
import type { Logger } from './logger.js';
import type { RequestMetrics } from './metrics/request-stats.js';
import { OPERATING_KEYS, resolveOperatingOptions, type OperatingOptions, type ResolvedOperatingOptions } from './operating-options.js';
import type { ServerCall } from './server-call.js';
import type { SessionBackend } from './session-backend.js';
import { PROCESS_SECRET, type SessionSecret } from './session-token.js';
import { checkCluster, type ServerCluster } from './cluster-hooks.js';
import { checkAllowedHosts } from './allowed-hosts.js';
import type { CompressionOption } from '../compression-option.js';
import type { ViewPaths } from '../state/view-paths.js';
import type { OnView } from './view-request.js';
import type { StateOf, UntypedApi } from '../protocol/api-map.js';
import type { NotifyHandler, RequestHandler, StreamHandler } from './typed-handlers.js';

export type { ErrorKind, UpgradeRequest } from './connection-config.js';

/**
 * The options of {@link listen} (and of {@link attach}, which takes all of
 * them but `host`, `port` and `tls`). `Api` is the API map (README,
 * "Types"): it types the handlers, their connections and `state`.
 */
export interface ListenOptions<Api = UntypedApi> {
  /** Interface to listen on. @default '127.0.0.1' */
  host?: string;
  /** TCP port; 0 picks a free one (see `server.port`). @default 0 */
  port?: number;
  /** Called for each new connection. May be async: its requests wait until it settles; a throw closes it with 1011. */
  onConnection?: (conn: Connection<Api>) => void | Promise<void>;
  /** Answers requests. Returning `undefined` sends `null`; throwing sends a failed response. */
  onRequest?: RequestHandler<Api>;
  /** Told about handler errors, protocol closes and socket errors. @default one log line each on stderr */
  onError?: (err: Error, context: { conn: Connection<Api> | null; kind: ErrorKind }) => void;
  /** URL path of the WebSocket endpoint. @default '/ws' */
  wsPath?: string;
  /** Directory of static files (dotfiles are never served). @default none */
  staticDir?: string | null;
  /** `GET /` redirects (302) here; null turns that off. @default '/index.html' */
  indexPath?: string | null;
  /** Apache htpasswd file: HTTP Basic auth on every route and on the upgrade. @default none */
  htpasswdFile?: string | null;
  /** Other authentication, for every route and the upgrade: return the user, or null to refuse (401). */
  authenticate?: ((req: IncomingMessage) => Promise<string | null> | string | null) | null;
  /** node:tls server options (key, cert, ca, requestCert, ...): https and wss instead of http and ws. */
  tls?: (TlsOptions & SecureContextOptions) | null;
  /** Longest delay before a state change is sent (a throttle). 0 sends each change; null only on `conn.flush()`. @default 200 */
  autoflushDelay?: number | null;
  /** How long `server.close()` waits for connections to close before cutting them. @default 100 */
  shutdownTimeout?: number;
  /** One Storage shared by all connections. @default a new Storage per connection */
  state?: Storage<StateOf<Api>> | null;
  /** Handle a connection's requests concurrently instead of one at a time. @default false */
  parallelRequests?: boolean;
  /** Extra Koa middleware, mounted after authentication and before static files. @default [] */
  middleware?: Koa.Middleware[];
  /** Outgoing messages queued per connection before `notify()` waits. @default 1024 */
  sendQueueSize?: number;
  /** Longest segment payload in UTF-16 units. @default 65536 */
  maxSegmentSize?: number;
  /** Largest incoming message in bytes; larger closes with 1009 (all partial messages together are bounded by `maxBufferedBytes`). @default 64 MiB */
  maxMessageSize?: number;
  /** Ping a connection silent for this long. @default 30000 */
  pingDelay?: number;
  /** Destroy a connection that answers nothing this long after a ping. @default 30000 */
  pingTimeout?: number;
  /** `Cache-Control: no-cache` on every HTTP response. @default true */
  noCache?: boolean;
  /** 'segmented' (juggler) or 'plain', the legacy framing (the seed-era protocol: bare JSON, no pings; docs/protocol.md, "Framing"). "Plain connection" elsewhere means one without the extension. @default 'segmented' */
  framing?: 'segmented' | 'plain';
  /** Origins allowed to open the WebSocket. @default own origin only when authentication is on, else any */
  allowedOrigins?: readonly string[] | null;
  /** Take `conn.remote` from Forwarded / X-Forwarded-For (client-controlled: only behind a proxy). @default true */
  trustProxy?: boolean;
  /** Open connections beyond which the upgrade is refused with 503. @default 10000 */
  maxConnections?: number;
  /** Requests handled at once per connection with `parallelRequests`; more wait. @default 64 */
  maxRequestsInFlight?: number;
  /** Serve the browser client at /juggler-client.js. @default true */
  clientBundle?: boolean;
  /**
   * What a connection sees of the state (docs/views.md): paths of object
   * keys, called once before it first gets the state. `null` or
   * `undefined`: everything. A throw or an array index in a path closes
   * that connection with 1011 and goes to onError. @default everything
   */
  view?: ((conn: Connection) => ViewPaths | null | undefined) | null;
  /**
   * A client asked for a view (`client.setView()`, extension): return the
   * paths granted, throw to refuse. Without it, every ask is refused. @default none
   */
  onView?: OnView<Connection> | null;

  // --- the koa-juggler.v1 extension (docs/protocol.md, "The extension koa-juggler.v1") ---

  /** Offer the koa-juggler.v1 extension to clients that ask for it; official clients never see it. @default true */
  extensions?: boolean;
  /** One-way messages from clients (`client.notify()`). Throwing is reported to onError; nothing is sent back. */
  onNotify?: NotifyHandler<Api> | null;
  /** Streaming calls (`client.stream()`): unary, server-, client- or bidirectional streaming. */
  onStream?: StreamHandler<Api> | null;
  /**
   * HMAC key for session tokens, or a list for rotation (the first signs, all verify).
   * Required with `cluster`. @default random per process (sessions do not survive a restart)
   */
  sessionSecret?: SessionSecret | null;
  /** How long a session outlives its last connection. @default 60000 */
  sessionTimeout?: number;
  /** Sessions held without a connection; beyond it the oldest go first. @default 10000 */
  maxSessions?: number;
  /** @internal where sessions and keyed results live (a cluster's Redis); in memory when absent */
  sessionBackend?: SessionBackend | null;
  /** State versions kept per Storage for resume. @default 64 */
  historySize?: number;
  /** Stream items each side may send before the receiver grants more. @default 64 */
  streamWindow?: number;
  /** Stream calls open at once per connection; beyond it `stream-open` is answered with `stream-error`. @default 64 */
  maxStreams?: number;
  /**
   * A cluster node from `redisCluster()` (`koa-juggler/cluster`): every connection's state is
   * `cluster.state`. Not with `state`; requires `sessionSecret`. @default none
   */
  cluster?: ServerCluster | null;

  // --- operating it (README, "Operating it") ---

  /** Deepest nesting of an incoming message, its own object included; deeper closes with 1008, checked before parsing. @default 64 */
  maxJsonDepth?: number;
  /** Bytes of partial incoming messages of all connections together; beyond it the connection holding the most is closed with 1009. @default 256 MiB */
  maxBufferedBytes?: number;
  /**
   * Host header values accepted on every route and the upgrade (against DNS
   * rebinding): names, `name:port`, or `.example.com` for a domain and its
   * subdomains; `'all'` accepts any. Others get 403.
   * @default loopback names (localhost, 127.0.0.1, [::1]) when the server listens on a loopback address, else 'all'
   */
  allowedHosts?: readonly string[] | 'all';
  /** A live admin page at /_admin/: `true` for loopback sockets only; `{ authorize(user) }` for authenticated users it accepts. @default false */
  admin?: boolean | AdminAccess;

  // --- operating it (README "Operating it") ---

  /** Prometheus text at `GET /metrics` (prom-client, a registry per server), behind the same authentication as every route. @default false */
  metrics?: boolean;
  /** `GET /healthz` (alive) and `GET /readyz` (503 while draining), without authentication, for load balancers. @default false */
  health?: boolean;
  /** permessage-deflate on the WebSocket: `true`, or `{ threshold }` (bytes; smaller messages go uncompressed). @default false */
  compression?: CompressionOption;
  /** A pino-compatible logger (`info`, `warn`, `error`, fields first) for the server's own logs. @default one line each on stdout / stderr */
  logger?: Logger | null;
}

/** Who may see the admin page besides nobody: see {@link ListenOptions.admin}. */
export interface AdminAccess {
  /** Whether this authenticated user may see the admin page (needs htpasswdFile or authenticate). */
  authorize(user: string): boolean | Promise<boolean>;
}

/** {@link ListenOptions} with defaults applied and every value checked. */
export interface ResolvedOptions {
  host: string;
  port: number;
  onConnection: ListenOptions['onConnection'] | null;
  onRequest: ListenOptions['onRequest'] | null;
  onError: NonNullable<ListenOptions['onError']>;
  wsPath: string;
  staticDir: string | null;
  indexPath: string | null;
  htpasswdFile: string | null;
  authenticate: ListenOptions['authenticate'] | null;
  tls: ListenOptions['tls'] | null;
  autoflushDelay: number | null;
  shutdownTimeout: number;
  state: Storage | null;
  parallelRequests: boolean;
  middleware: Koa.Middleware[];
  sendQueueSize: number;
  maxSegmentSize: number;
  maxMessageSize: number;
  pingDelay: number;
  pingTimeout: number;
  noCache: boolean;
  framing: 'segmented' | 'plain';
  allowedOrigins: readonly string[] | null;
  trustProxy: boolean;
  maxConnections: number;
  maxRequestsInFlight: number;
  clientBundle: boolean;
  view: ListenOptions['view'] | null;
  onView: OnView<Connection> | null;
  extensions: boolean;
  onNotify: ListenOptions['onNotify'] | null;
  onStream: ListenOptions['onStream'] | null;
  sessionSecret: SessionSecret;
  sessionTimeout: number;
  maxSessions: number;
  sessionBackend: SessionBackend | null;
  historySize: number;
  streamWindow: number;
  maxStreams: number;
  cluster: ServerCluster | null;
  maxJsonDepth: number;
  maxBufferedBytes: number;
  /** null: decided by the address the server listens on. */
  allowedHosts: readonly string[] | 'all' | null;
  /** null: no admin page; `{ authorize: null }`: loopback sockets only. */
  admin: { authorize: AdminAccess['authorize'] | null } | null;
  operating: ResolvedOperatingOptions;
}

/**
 * The part of the options a connection reads, built once per server.
 * @param requestStats the metrics' request counters, or null
 */
export function connectionConfig(o: ResolvedOptions, requestStats: RequestMetrics | null = null): ConnectionConfig<Connection> {
  return {
    transport: {
      maxSegmentSize: o.maxSegmentSize,
      maxMessageSize: o.maxMessageSize,
      pingDelay: o.framing === 'plain' ? null : o.pingDelay,
      pingTimeout: o.pingTimeout,
      sendQueueSize: o.sendQueueSize,
      framing: o.framing,
    },
    maxJsonDepth: o.maxJsonDepth,
    helloTimeout: o.pingTimeout,
    streamWindow: o.streamWindow,
    onConnection: o.onConnection ?? null,
    onError: o.onError,
    requests: { onRequest: o.onRequest ?? null, onNotify: o.onNotify ?? null, parallel: o.parallelRequests, maxInFlight: o.maxRequestsInFlight, stats: requestStats },
    streams: { onStream: o.onStream ?? null, streamWindow: o.streamWindow, maxStreams: o.maxStreams },
    views: { view: o.view ?? null, onView: o.onView ?? null },
  };
}

/** The default onError: one line through the logger (by default `koa-juggler: KIND error [REMOTE]: MESSAGE` on stderr). */
function logErrors(logger: Logger): NonNullable<ListenOptions['onError']> {
  return (err, { conn, kind }) => {
    const who = conn ? ` [${conn.remote}]` : '';
    logger.error({ err, kind, remote: conn?.remote ?? null }, `${kind} error${who}: ${err.message}`);
  };
}

const KNOWN = new Set<string>([
  'host', 'port', 'onConnection', 'onRequest', 'onError', 'wsPath', 'staticDir', 'indexPath', 'htpasswdFile',
  'authenticate', 'tls', 'autoflushDelay', 'shutdownTimeout', 'state', 'parallelRequests', 'middleware',
  'sendQueueSize', 'maxSegmentSize', 'maxMessageSize', 'pingDelay', 'pingTimeout', 'noCache', 'framing',
  'allowedOrigins', 'trustProxy', 'maxConnections', 'maxRequestsInFlight', 'clientBundle', 'view', 'onView',
  'extensions', 'onNotify', 'onStream', 'sessionSecret', 'sessionTimeout', 'maxSessions', 'sessionBackend', 'historySize',
  'streamWindow', 'maxStreams', 'cluster', 'maxJsonDepth', 'maxBufferedBytes', 'allowedHosts', 'admin', ...OPERATING_KEYS,
]);

type Check<T> = (name: string, value: unknown) => T;

const fn = (name: string, v: unknown) => {
  if (typeof v !== 'function') throw new InvalidArgumentError(name, 'a function', v);
  return v as never;
};
const bool: Check<boolean> = (name, v) => {
  if (typeof v !== 'boolean') throw new InvalidArgumentError(name, 'a boolean', v);
  return v;
};
const str: Check<string> = (name, v) => {
  if (typeof v !== 'string' || v.length === 0) throw new InvalidArgumentError(name, 'a non-empty string', v);
  return v;
};
const path: Check<string> = (name, v) => {
  const s = str(name, v);
  if (!s.startsWith('/')) throw new InvalidArgumentError(name, 'a URL path starting with "/"', v);
  return s;
};
function int(min: number, max = Number.MAX_SAFE_INTEGER): Check<number> {
  return (name, v) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new InvalidArgumentError(name, `an integer from ${min} to ${max}`, v);
    }
    return v;
  };
}
function nonNegative(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new InvalidArgumentError(name, 'a non-negative number', v);
  return v;
}

function checkSecret(name: string, v: unknown): SessionSecret {
  const one = (s: unknown): boolean => (typeof s === 'string' || Buffer.isBuffer(s)) && s.length >= 16;
  if (one(v)) return v as string | Buffer;
  if (Array.isArray(v) && v.length > 0 && v.every(one)) return Object.freeze([...v]) as readonly (string | Buffer)[];
  throw new InvalidArgumentError(name, 'a string or Buffer of at least 16 characters or bytes, or a non-empty list of them');
}

/**
 * Applies defaults and validates every option.
 * @throws InvalidArgumentError naming the first bad option
 */
export function resolveOptions(options: ListenOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options', 'an object', options);
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw new InvalidArgumentError(`options.${key}`, 'a known option (see ListenOptions)');
  }
  const o = options as Record<string, unknown>;
  const opt = <T>(key: string, fallback: T, check: Check<T>): T => (o[key] === undefined ? fallback : check(`options.${key}`, o[key]));
  const nullable = <T>(key: string, fallback: T | null, check: Check<T>): T | null =>
    o[key] === undefined ? fallback : o[key] === null ? null : check(`options.${key}`, o[key]);

  const framing = opt('framing', 'segmented' as const, (name, v) => {
    if (v !== 'segmented' && v !== 'plain') throw new InvalidArgumentError(name, '"segmented" or "plain"', v);
    return v;
  });
  const operating = resolveOperatingOptions(o as OperatingOptions);
  const resolved: ResolvedOptions = {
    host: opt('host', '127.0.0.1', str),
    port: opt('port', 0, int(0, 65535)),
    onConnection: nullable('onConnection', null, fn),
    onRequest: nullable('onRequest', null, fn),
    onError: opt('onError', logErrors(operating.logger), fn),
    wsPath: opt('wsPath', '/ws', path),
    staticDir: nullable('staticDir', null, str),
    indexPath: nullable('indexPath', '/index.html', path),
    htpasswdFile: nullable('htpasswdFile', null, str),
    authenticate: nullable('authenticate', null, fn),
    tls: nullable('tls', null, (name, v) => {
      if (typeof v !== 'object' || v === null) throw new InvalidArgumentError(name, 'an object of node:tls options', v);
      return v as ResolvedOptions['tls'];
    }),
    autoflushDelay: nullable('autoflushDelay', 200, nonNegative),
    shutdownTimeout: opt('shutdownTimeout', 100, nonNegative),
    state: nullable('state', null, (name, v) => {
      if (!(v instanceof Storage)) throw new InvalidArgumentError(name, 'a Storage', v);
      return v;
    }),
    parallelRequests: opt('parallelRequests', false, bool),
    middleware: opt('middleware', [], (name, v) => {
      if (!Array.isArray(v)) throw new InvalidArgumentError(name, 'an array of Koa middleware functions', v);
      v.forEach((m, i) => fn(`${name}[${i}]`, m));
      return v as Koa.Middleware[];
    }),
    sendQueueSize: opt('sendQueueSize', 1024, int(1)),
    maxSegmentSize: opt('maxSegmentSize', 65536, int(2)),
    maxMessageSize: opt('maxMessageSize', 64 * 1024 * 1024, int(1)),
    pingDelay: opt('pingDelay', 30000, int(1)),
    pingTimeout: opt('pingTimeout', 30000, int(1)),
    noCache: opt('noCache', true, bool),
    framing,
    allowedOrigins: nullable('allowedOrigins', null, (name, v) => {
      if (!Array.isArray(v)) throw new InvalidArgumentError(name, 'an array of origin strings', v);
      v.forEach((s, i) => str(`${name}[${i}]`, s));
      return v as string[];
    }),
    trustProxy: opt('trustProxy', true, bool),
    maxConnections: opt('maxConnections', 10000, int(1)),
    maxRequestsInFlight: opt('maxRequestsInFlight', 64, int(1)),
    clientBundle: opt('clientBundle', true, bool),
    view: nullable('view', null, fn),
    onView: nullable('onView', null, fn),
    extensions: opt('extensions', true, bool),
    onNotify: nullable('onNotify', null, fn),
    onStream: nullable('onStream', null, fn),
    sessionSecret: nullable<SessionSecret>('sessionSecret', null, checkSecret) ?? PROCESS_SECRET,
    sessionTimeout: opt('sessionTimeout', 60000, int(0)),
    maxSessions: opt('maxSessions', 10000, int(0)),
    sessionBackend: nullable('sessionBackend', null, fn),
    historySize: opt('historySize', 64, int(0)),
    streamWindow: opt('streamWindow', 64, int(1, 1 << 20)),
    maxStreams: opt('maxStreams', 64, int(1)),
    operating,
    maxJsonDepth: opt('maxJsonDepth', 64, int(1)),
    maxBufferedBytes: opt('maxBufferedBytes', 256 * 1024 * 1024, int(1)),
    allowedHosts: opt('allowedHosts', null, checkAllowedHosts),
    admin: opt('admin', null, (name, v) => {
      if (v === false) return null;
      if (v === true) return { authorize: null };
      if (v !== null && typeof v === 'object' && typeof (v as AdminAccess).authorize === 'function') return { authorize: (v as AdminAccess).authorize.bind(v) };
      throw new InvalidArgumentError(name, 'true, false or { authorize(user) }', v);
    }),
    cluster: null,
  };
  resolved.cluster = nullable('cluster', null, checkCluster);
  if (resolved.cluster !== null) {
    if (resolved.state !== null) throw new InvalidArgumentError('options.state', 'left out with options.cluster (the state is cluster.state)');
    if (o.sessionSecret === undefined || o.sessionSecret === null) {
      throw new InvalidArgumentError('options.sessionSecret', 'given with options.cluster (nodes verify each other\'s session tokens)');
    }
    // Sessions and keyed results live where every node finds them: in the cluster's Redis.
    resolved.sessionBackend ??= resolved.cluster.sessionBackend();
  }
  if (resolved.admin?.authorize && resolved.htpasswdFile === null && resolved.authenticate === null) {
    throw new InvalidArgumentError('options.admin', 'true when no authentication is on (authorize(user) needs htpasswdFile or authenticate)');
  }
  if (resolved.htpasswdFile !== null && resolved.authenticate !== null) {
    throw new InvalidArgumentError('options.authenticate', 'left out when options.htpasswdFile is given (use one)');
  }
  return resolved;
}
