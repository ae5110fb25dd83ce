/**
 * The options users pass to `connect()`, `reconnect()` and `send()`: the
 * interfaces and their documented defaults. They are validated and merged
 * with the defaults in one place, options.ts.
 */
import type { CompressionOption } from '../compression-option.js';
import type { JsonValue } from '../json.js';
import type { NotifyArgs, StateOf, UntypedApi } from '../protocol/api-map.js';

/** HTTP Basic credentials sent on the WebSocket upgrade (Node only). */
export interface BasicAuth {
  /** The user name (no `:` allowed, as HTTP Basic cannot carry one). */
  username: string;
  /** The password, sent on each upgrade and not kept by the client after it. */
  password: string;
}

/** PEM or DER material, as `node:tls` takes it. */
export type TlsMaterial = string | Uint8Array | readonly (string | Uint8Array)[];

/** TLS options for `wss:` addresses (Node only; a browser uses its own trust store). */
export interface TlsOptions {
  /** Certificate authorities to trust instead of the system's. */
  ca?: TlsMaterial;
  /** Client certificate, for servers that ask for one. */
  cert?: TlsMaterial;
  /** Private key of `cert`. */
  key?: TlsMaterial;
}

/**
 * Options of {@link connect}. An option given as `undefined` takes its default.
 * `Api` is the API map (README, "Types"): it types `onNotify` and `state`.
 */
export interface ConnectOptions<Api = UntypedApi> {
  /** Called with every `notify` message from the server. */
  onNotify?: (...args: NotifyArgs<Api>) => void;
  /**
   * Called with errors thrown by your own callbacks (`onChange`,
   * `onNotify`, and `reconnect()`'s callbacks), which never break the
   * connection.
   * @default reports them with `console.error`
   */
  onError?: (err: unknown) => void;
  /**
   * Keep `state` as immutable snapshots: each diff gives a new root object
   * and new objects along every changed path, everything else shared with
   * the previous value (structural sharing), so identity says what changed
   * (what React's `useSyncExternalStore`, `koa-juggler/react` and
   * memoised selectors need). A diff then costs in proportion to its size
   * and to the width of the objects on its paths; `false` updates `state`
   * in place, which costs only the diff. Snapshots are not frozen: do not
   * write to them. See docs/client.md, "Snapshots".
   * @default false
   */
  snapshots?: boolean;
  /**
   * Called with `stale` each time it changes: `true` when the server says
   * the state it sends may be behind (a cluster node that lost Redis; an
   * extension `status` message) and, for `reconnect()`, also from a
   * disconnect until the new connection's first state.
   */
  onStatus?: (stale: boolean) => void;
  /** HTTP Basic credentials for the upgrade. Node only: a browser sends the credentials it has stored. */
  auth?: BasicAuth;
  /** TLS options for `wss:`. Node only. */
  tls?: TlsOptions;
  /**
   * Offer per-message deflate (RFC 7692): `true`, or `{ threshold }` (messages smaller
   * than `threshold` bytes go uncompressed). Used when the server has
   * `compression` on too. Node only: a browser decides by itself.
   * @default false
   */
  compression?: CompressionOption;
  /**
   * Longest segment payload this client sends, in UTF-16 units (header
   * excluded). At least 2, so that a surrogate pair always fits.
   * @default 65536
   */
  maxSegmentSize?: number;
  /**
   * Largest message accepted from the server (all its segments together),
   * in bytes of UTF-8 in Node, in UTF-16 units in browsers (which only hand
   * over strings). A larger one is a ProtocolError: the client closes with 1009.
   * @default 67108864 (64 MiB)
   */
  maxMessageSize?: number;
  /**
   * Deepest nesting of arrays and objects accepted in a message from the
   * server, the message's own object included (a `state` message wraps the
   * value in three levels), checked before parsing. Deeper is a
   * ProtocolError: the client closes with 1008. Higher than the server's
   * default: a client trusts its server more than a server its clients.
   * @default 128
   */
  maxJsonDepth?: number;
  /**
   * Ping the server after this long without receiving anything; `null`
   * never pings (the client still answers the server's pings).
   * @default 30000
   */
  pingDelay?: number | null;
  /**
   * Drop the connection (ConnectionLostError) when nothing arrives this
   * long after a ping. Also bounds how long `close()` waits for the
   * server's close frame.
   * @default 30000
   */
  pingTimeout?: number;
  /**
   * Give up a connection attempt (ConnectError, kind `'timeout'`) that has
   * not opened within this long.
   * @default 30000
   */
  connectTimeout?: number;
  /** Aborts the connection attempt (ConnectError, kind `'aborted'`); no effect once connected. */
  signal?: AbortSignal;
  /**
   * Offer the koa-juggler.v1 extension (sessions, resume, keyed requests,
   * `notify()`, `stream()`). A server without it still works: the attempt
   * is retried at once without the offer, and that address is remembered as
   * plain for the life of the process (or page). `false` never offers it:
   * a plain juggler client from the start. (The same name as the
   * server's option; the old name `extension` is refused.)
   * @default true
   */
  extensions?: boolean;
  /**
   * Resume this session (`client.session` of an earlier connection): the
   * server gives back its per-connection state and its record of keyed
   * requests while it still holds the session; otherwise it starts a new
   * one (`client.resumed` says which). Extension only; ignored otherwise.
   */
  session?: string | null;
  /**
   * The version of {@link ConnectOptions.state} (`client.version` of an
   * earlier connection): the server then sends only what changed since, or
   * nothing when it is current. Sent only together with `state`, since a
   * diff from a version applies only to the value it names; without
   * `state` the client starts from `null` and gets the whole value.
   */
  version?: string | null;
  /**
   * The state at `version` (`client.state` of the earlier connection, or a
   * copy of it): the new client starts from it and applies the server's diff
   * to it, in place. Only used with `version`.
   */
  state?: StateOf<Api>;
}

/** Options of one `send()`. */
export interface RequestOptions {
  /**
   * Reject with TimeoutError when no response has arrived this long after
   * the call. Nothing is sent to the server; a late response is ignored.
   * On a reconnecting client it counts across reconnects.
   * @default no timeout
   */
  timeout?: number;
  /**
   * Idempotency key (1 to 256 characters): within a session the server
   * runs the handler at most once per key and answers a repeat with the
   * first result. Sent on extension connections only. A reconnecting
   * client gives every request a random key unless this is `null` (or its
   * `autoKey` option is `false`), and re-sends a keyed request that was in
   * flight when the link dropped once the session is resumed.
   * @default none (`connect()`), a random key (`reconnect()`)
   */
  key?: string | null;
}

/** Delays between rounds of connection attempts. */
export interface BackoffOptions {
  /**
   * Delay before the first retry round.
   * @default 500
   */
  initial?: number;
  /**
   * Longest delay: the doubling stops here.
   * @default 30000
   */
  max?: number;
  /**
   * Randomness, from 0 to 1: each delay is drawn uniformly from
   * `[d × (1 − jitter), d]`, so clients that lost the same server do not
   * all come back at once. 0 gives exact delays.
   * @default 0.5
   */
  jitter?: number;
}

/** Credentials, or a function that returns them before each attempt (to refresh a token). */
export type AuthSource = BasicAuth | (() => BasicAuth | null | undefined | Promise<BasicAuth | null | undefined>);

/**
 * Options of {@link reconnect}: those of `connect()` (but `signal` and the
 * resume options, which it manages by itself), plus the ones below.
 */
export interface ReconnectOptions<Api = UntypedApi> extends Omit<ConnectOptions<Api>, 'auth' | 'signal' | 'session' | 'version' | 'state'> {
  /**
   * Credentials, or a function called before every attempt (Node only). A
   * function that throws or rejects counts as a failed attempt.
   */
  auth?: AuthSource;
  /** Delays between rounds of attempts; see {@link BackoffOptions}. */
  backoff?: BackoffOptions;
  /**
   * Give up (see `onGiveUp`) once this long has passed without a
   * connection: counted from the start, and again from each disconnect.
   * @default undefined: never give up
   */
  budget?: number;
  /**
   * Close codes after which it stops at once instead of retrying, whether
   * the server closed with one or the client closed with one because the
   * server sent something invalid. Add the 4000–4999 codes your
   * application uses for "do not come back".
   * @default [1002, 1003, 1007, 1008, 1009]
   */
  fatalCloseCodes?: readonly number[];
  /**
   * Called before each connection attempt with its number, counted from 1
   * since the last successful connection (or the start), and its address.
   */
  onAttempt?: (attempt: number, url: string) => void;
  /**
   * Called when a connection is ready (after `welcome` on an extension
   * connection), with its address. `state` still holds the last value
   * (`stale` is true) until the connection's first state.
   */
  onConnected?: (url: string) => void;
  /** Called when an open connection ends, with the error its pending requests failed with. Not called after `close()`. */
  onDisconnected?: (err: Error) => void;
  /**
   * Called once when it stops trying (fatal close code, HTTP 401/403, or
   * `budget` spent), with a GaveUpError whose `cause` is what decided it.
   * `closed` resolves right after.
   */
  onGiveUp?: (err: Error) => void;
  /**
   * Give every request an idempotency key (a random UUID) unless `send()`
   * passes `key: null`, so that a request in flight when the link drops is
   * re-sent once the session is resumed, and runs once. `false`: only
   * requests given a `key` get one.
   * @default true
   */
  autoKey?: boolean;
}

/** What a client runs on: the socket opener and the limits of the platform. */
export interface PlatformInfo {
  /** 'node' allows `auth` and `tls`; a browser cannot set headers or TLS options. */
  name: 'node' | 'browser';
  /** Base against which relative addresses resolve (a page's location), if any. */
  baseUrl?: string;
}
