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
import type { ServerCall } from './server-call.js';
import { PROCESS_SECRET } from './session-token.js';
import type { ViewPaths } from '../state/view-paths.js';
import type { OnView } from './view-request.js';

export type { ErrorKind, UpgradeRequest } from './connection-config.js';

/**
 * The options of {@link listen} (and of {@link attach}, which takes all of
 * them but `host`, `port` and `tls`).
 */
export interface ListenOptions {
  /** Interface to listen on. @default '127.0.0.1' */
  host?: string;
  /** TCP port; 0 picks a free one (see `server.port`). @default 0 */
  port?: number;
  /** Called for each new connection. May be async: its requests wait until it settles; a throw closes it with 1011. */
  onConnection?: (conn: Connection) => void | Promise<void>;
  /** Answers requests. Returning `undefined` sends `null`; throwing sends a failed response. */
  onRequest?: (conn: Connection, name: string, data: JsonValue) => JsonValue | undefined | void | Promise<JsonValue | undefined | void>;
  /** Told about handler errors, protocol closes and socket errors. @default one log line each on stderr */
  onError?: (err: Error, context: { conn: Connection | null; kind: ErrorKind }) => void;
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
  state?: Storage | null;
  /** Handle a connection's requests concurrently instead of one at a time. @default false */
  parallelRequests?: boolean;
  /** Extra Koa middleware, mounted after authentication and before static files. @default [] */
  middleware?: Koa.Middleware[];
  /** Outgoing messages queued per connection before `notify()` waits. @default 1024 */
  sendQueueSize?: number;
  /** Longest segment payload in UTF-16 units. @default 65536 */
  maxSegmentSize?: number;
  /** Largest incoming message in bytes; larger closes with 1009. @default 64 MiB */
  maxMessageSize?: number;
  /** Ping a connection silent for this long. @default 30000 */
  pingDelay?: number;
  /** Destroy a connection that answers nothing this long after a ping. @default 30000 */
  pingTimeout?: number;
  /** `Cache-Control: no-cache` on every HTTP response. @default true */
  noCache?: boolean;
  /** 'segmented' (juggler) or 'plain' (the seed-era protocol: bare JSON, no pings). @default 'segmented' */
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
  onNotify?: ((conn: Connection, name: string, data: JsonValue) => void | Promise<void>) | null;
  /** Streaming calls (`client.stream()`): unary, server-, client- or bidirectional streaming. */
  onStream?: ((conn: Connection, name: string, data: JsonValue, call: ServerCall) => unknown) | null;
  /** HMAC key for session tokens. @default random per process (sessions do not survive a restart) */
  sessionSecret?: string | Buffer | null;
  /** How long a session outlives its last connection. @default 60000 */
  sessionTimeout?: number;
  /** Sessions held without a connection; beyond it the oldest go first. @default 10000 */
  maxSessions?: number;
  /** State versions kept per Storage for resume. @default 64 */
  historySize?: number;
  /** Stream items each side may send before the receiver grants more. @default 64 */
  streamWindow?: number;
  /** Stream calls open at once per connection; beyond it `stream-open` is answered with `stream-error`. @default 64 */
  maxStreams?: number;
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
  sessionSecret: string | Buffer;
  sessionTimeout: number;
  maxSessions: number;
  historySize: number;
  streamWindow: number;
  maxStreams: number;
}

/** The part of the options a connection reads, built once per server. */
export function connectionConfig(o: ResolvedOptions): ConnectionConfig<Connection> {
  return {
    transport: {
      maxSegmentSize: o.maxSegmentSize,
      maxMessageSize: o.maxMessageSize,
      pingDelay: o.framing === 'plain' ? null : o.pingDelay,
      pingTimeout: o.pingTimeout,
      sendQueueSize: o.sendQueueSize,
      framing: o.framing,
    },
    helloTimeout: o.pingTimeout,
    streamWindow: o.streamWindow,
    onConnection: o.onConnection ?? null,
    onError: o.onError,
    requests: { onRequest: o.onRequest ?? null, onNotify: o.onNotify ?? null, parallel: o.parallelRequests, maxInFlight: o.maxRequestsInFlight },
    streams: { onStream: o.onStream ?? null, streamWindow: o.streamWindow, maxStreams: o.maxStreams },
    views: { view: o.view ?? null, onView: o.onView ?? null },
  };
}

function defaultOnError(err: Error, { conn, kind }: { conn: Connection | null; kind: ErrorKind }): void {
  const who = conn ? ` [${conn.remote}]` : '';
  console.error(`koa-juggler: ${kind} error${who}: ${err.message}`);
}

const KNOWN = new Set<string>([
  'host', 'port', 'onConnection', 'onRequest', 'onError', 'wsPath', 'staticDir', 'indexPath', 'htpasswdFile',
  'authenticate', 'tls', 'autoflushDelay', 'shutdownTimeout', 'state', 'parallelRequests', 'middleware',
  'sendQueueSize', 'maxSegmentSize', 'maxMessageSize', 'pingDelay', 'pingTimeout', 'noCache', 'framing',
  'allowedOrigins', 'trustProxy', 'maxConnections', 'maxRequestsInFlight', 'clientBundle', 'view', 'onView',
  'extensions', 'onNotify', 'onStream', 'sessionSecret', 'sessionTimeout', 'maxSessions', 'historySize',
  'streamWindow', 'maxStreams',
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
  const resolved: ResolvedOptions = {
    host: opt('host', '127.0.0.1', str),
    port: opt('port', 0, int(0, 65535)),
    onConnection: nullable('onConnection', null, fn),
    onRequest: nullable('onRequest', null, fn),
    onError: opt('onError', defaultOnError, fn),
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
    sessionSecret: nullable<string | Buffer>('sessionSecret', null, (name, v) => {
      if (!(typeof v === 'string' && v.length >= 16) && !(Buffer.isBuffer(v) && v.length >= 16)) {
        throw new InvalidArgumentError(name, 'a string or Buffer of at least 16 characters or bytes');
      }
      return v as string | Buffer;
    }) ?? PROCESS_SECRET,
    sessionTimeout: opt('sessionTimeout', 60000, int(0)),
    maxSessions: opt('maxSessions', 10000, int(0)),
    historySize: opt('historySize', 64, int(0)),
    streamWindow: opt('streamWindow', 64, int(1, 1 << 20)),
    maxStreams: opt('maxStreams', 64, int(1)),
  };
  if (resolved.htpasswdFile !== null && resolved.authenticate !== null) {
    throw new InvalidArgumentError('options.authenticate', 'left out when options.htpasswdFile is given (use one)');
  }
  return resolved;
}
