/**
 * Options of `connect()`, `reconnect()` and `send()`: the interfaces users
 * see, with their defaults, and the one place where they are validated and
 * merged with those defaults.
 */
import { InvalidArgumentError } from '../errors.js';
import type { JsonValue } from '../json.js';

/** HTTP Basic credentials sent on the WebSocket upgrade (Node only). */
export interface BasicAuth {
  username: string;
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

/** Options of {@link connect}. An option given as `undefined` takes its default. */
export interface ConnectOptions {
  /** Called with every `notify` message from the server. */
  onNotify?: (name: string, data: JsonValue) => void;
  /**
   * Called with errors thrown by your own callbacks (`onChange`,
   * `onNotify`, and `reconnect()`'s callbacks), which never break the
   * connection.
   * @default reports them with `console.error`
   */
  onError?: (err: unknown) => void;
  /** HTTP Basic credentials for the upgrade. Node only: a browser sends the credentials it has stored. */
  auth?: BasicAuth;
  /** TLS options for `wss:`. Node only. */
  tls?: TlsOptions;
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
}

/** Options of one `send()`. */
export interface RequestOptions {
  /**
   * Reject with TimeoutError when no response has arrived this long after
   * the call. Nothing is sent to the server; a late response is ignored.
   * @default no timeout
   */
  timeout?: number;
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

/** Options of {@link reconnect}: those of `connect()` (but `signal`), plus the ones below. */
export interface ReconnectOptions extends Omit<ConnectOptions, 'auth' | 'signal'> {
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
  /** Called when a connection opens, with its address, after `state` has been reset to `null`. */
  onConnected?: (url: string) => void;
  /** Called when an open connection ends, with the error its pending requests failed with. Not called after `close()`. */
  onDisconnected?: (err: Error) => void;
  /**
   * Called once when it stops trying (fatal close code, HTTP 401/403, or
   * `budget` spent), with a GaveUpError whose `cause` is what decided it.
   * `closed` resolves right after.
   */
  onGiveUp?: (err: Error) => void;
}

/** What a client runs on: the socket opener and the limits of the platform. */
export interface PlatformInfo {
  /** 'node' allows `auth` and `tls`; a browser cannot set headers or TLS options. */
  name: 'node' | 'browser';
  /** Base against which relative addresses resolve (a page's location), if any. */
  baseUrl?: string;
}

/** Default of {@link ConnectOptions.maxSegmentSize}, as in hat-juggler. */
export const DEFAULT_MAX_SEGMENT_SIZE = 65536;
/** Default of {@link ConnectOptions.maxMessageSize}: 64 MiB. */
export const DEFAULT_MAX_MESSAGE_SIZE = 64 * 1024 * 1024;
/** Default of {@link ConnectOptions.pingDelay}, as the Python server uses. */
export const DEFAULT_PING_DELAY = 30000;
/** Default of {@link ConnectOptions.pingTimeout}. */
export const DEFAULT_PING_TIMEOUT = 30000;
/** Default of {@link ConnectOptions.connectTimeout}. */
export const DEFAULT_CONNECT_TIMEOUT = 30000;
/** Default of {@link ReconnectOptions.backoff}. */
export const DEFAULT_BACKOFF = { initial: 500, max: 30000, jitter: 0.5 } as const;
/** Default of {@link ReconnectOptions.fatalCloseCodes}: protocol error, unsupported data, invalid payload, policy, too big. */
export const DEFAULT_FATAL_CLOSE_CODES: readonly number[] = [1002, 1003, 1007, 1008, 1009];

/** ConnectOptions with defaults applied; what the client runs on. */
export interface ResolvedConnectOptions {
  onNotify: ((name: string, data: JsonValue) => void) | null;
  onError: (err: unknown) => void;
  auth: BasicAuth | null;
  tls: TlsOptions | null;
  maxSegmentSize: number;
  maxMessageSize: number;
  pingDelay: number | null;
  pingTimeout: number;
  connectTimeout: number;
  signal: AbortSignal | null;
}

/** ReconnectOptions with defaults applied; `connect` is what each attempt runs with (plus `auth` and a signal). */
export interface ResolvedReconnectOptions {
  connect: Omit<ResolvedConnectOptions, 'auth' | 'signal'>;
  auth: AuthSource | null;
  backoff: Required<BackoffOptions>;
  budget: number | null;
  fatalCloseCodes: ReadonlySet<number>;
  onConnected: ((url: string) => void) | null;
  onDisconnected: ((err: Error) => void) | null;
  onGiveUp: ((err: Error) => void) | null;
}

const CONNECT_KEYS = new Set([
  'onNotify', 'onError', 'auth', 'tls', 'maxSegmentSize', 'maxMessageSize', 'pingDelay', 'pingTimeout', 'connectTimeout', 'signal',
]);
const RECONNECT_KEYS = new Set([
  ...[...CONNECT_KEYS].filter((k) => k !== 'signal'), 'backoff', 'budget', 'fatalCloseCodes', 'onConnected', 'onDisconnected', 'onGiveUp',
]);

function defaultOnError(err: unknown): void {
  console.error('koa-juggler client: a callback threw:', err);
}

/**
 * Checks the address: an absolute `ws:` or `wss:` URL (or, where the
 * platform has a base such as a page's location, one relative to it;
 * `http:`/`https:` there mean `ws:`/`wss:`). Returns it normalised.
 * @throws InvalidArgumentError naming `name`
 */
export function resolveUrl(url: unknown, platform: PlatformInfo, name = 'url'): string {
  if (typeof url !== 'string' || url === '') throw new InvalidArgumentError(name, 'a non-empty string', url);
  let parsed: URL;
  try {
    parsed = platform.baseUrl === undefined ? new URL(url) : new URL(url, platform.baseUrl);
  } catch {
    throw new InvalidArgumentError(name, 'a ws: or wss: URL', url);
  }
  if (platform.baseUrl !== undefined && (parsed.protocol === 'http:' || parsed.protocol === 'https:')) {
    parsed.protocol = parsed.protocol === 'http:' ? 'ws:' : 'wss:';
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') throw new InvalidArgumentError(name, 'a ws: or wss: URL', url);
  if (parsed.hash !== '') throw new InvalidArgumentError(name, 'a URL without a #fragment', url);
  return parsed.href;
}

/**
 * Validates `connect()` options and applies the defaults.
 * @throws InvalidArgumentError naming the first bad option, e.g. `options.pingDelay`
 */
export function resolveConnectOptions(options: unknown, platform: PlatformInfo): ResolvedConnectOptions {
  const o = checkObject(options, 'options', CONNECT_KEYS);
  const resolved = resolveShared(o, platform);
  return {
    ...resolved,
    auth: o.auth === undefined ? null : checkAuth(o.auth, 'options.auth', platform),
    signal: o.signal === undefined ? null : checkSignal(o.signal),
  };
}

/**
 * Validates `reconnect()` options and applies the defaults.
 * @throws InvalidArgumentError naming the first bad option
 */
export function resolveReconnectOptions(options: unknown, platform: PlatformInfo): ResolvedReconnectOptions {
  const o = checkObject(options, 'options', RECONNECT_KEYS);
  let auth: AuthSource | null = null;
  if (typeof o.auth === 'function') {
    if (platform.name !== 'node') throw nodeOnly('options.auth');
    auth = o.auth as AuthSource;
  } else if (o.auth !== undefined) {
    auth = checkAuth(o.auth, 'options.auth', platform);
  }
  const b = o.backoff === undefined ? {} : checkObject(o.backoff, 'options.backoff', new Set(['initial', 'max', 'jitter']));
  const backoff = {
    initial: b.initial === undefined ? DEFAULT_BACKOFF.initial : positive(b.initial, 'options.backoff.initial'),
    max: b.max === undefined ? DEFAULT_BACKOFF.max : positive(b.max, 'options.backoff.max'),
    jitter: DEFAULT_BACKOFF.jitter as number,
  };
  if (b.jitter !== undefined) {
    if (typeof b.jitter !== 'number' || !(b.jitter >= 0 && b.jitter <= 1)) {
      throw new InvalidArgumentError('options.backoff.jitter', 'a number from 0 to 1', b.jitter);
    }
    backoff.jitter = b.jitter;
  }
  if (backoff.max < backoff.initial) {
    throw new InvalidArgumentError('options.backoff.max', `at least options.backoff.initial (${backoff.initial})`, backoff.max);
  }
  let fatal = DEFAULT_FATAL_CLOSE_CODES;
  if (o.fatalCloseCodes !== undefined) {
    if (!Array.isArray(o.fatalCloseCodes) || !o.fatalCloseCodes.every((c) => Number.isInteger(c) && c >= 1000 && c <= 4999)) {
      throw new InvalidArgumentError('options.fatalCloseCodes', 'an array of close codes (integers from 1000 to 4999)', o.fatalCloseCodes);
    }
    fatal = o.fatalCloseCodes;
  }
  return {
    connect: resolveShared(o, platform),
    auth,
    backoff,
    budget: o.budget === undefined || o.budget === null ? null : positive(o.budget, 'options.budget'),
    fatalCloseCodes: new Set(fatal),
    onConnected: optionalFunction(o.onConnected, 'options.onConnected') as ResolvedReconnectOptions['onConnected'],
    onDisconnected: optionalFunction(o.onDisconnected, 'options.onDisconnected') as ResolvedReconnectOptions['onDisconnected'],
    onGiveUp: optionalFunction(o.onGiveUp, 'options.onGiveUp') as ResolvedReconnectOptions['onGiveUp'],
  };
}

/**
 * Validates credentials (also what an `auth` function returned).
 * @throws InvalidArgumentError naming `name`
 */
export function checkAuth(auth: unknown, name: string, platform: PlatformInfo): BasicAuth {
  if (platform.name !== 'node') throw nodeOnly(name);
  const a = checkObject(auth, name, new Set(['username', 'password']));
  if (typeof a.username !== 'string') throw new InvalidArgumentError(`${name}.username`, 'a string', a.username);
  // Basic auth joins the two with ':', so a colon in the user name cannot be told apart.
  if (a.username.includes(':')) throw new InvalidArgumentError(`${name}.username`, 'a string without ":"', a.username);
  if (typeof a.password !== 'string') throw new InvalidArgumentError(`${name}.password`, 'a string', a.password);
  return { username: a.username, password: a.password };
}

/**
 * Validates `send()`'s per-request options.
 * @throws InvalidArgumentError naming the bad option
 */
export function resolveRequestOptions(options: unknown): { timeout: number | null } {
  if (options === undefined) return { timeout: null };
  const o = checkObject(options, 'options', new Set(['timeout']));
  return { timeout: o.timeout === undefined || o.timeout === null ? null : positive(o.timeout, 'options.timeout') };
}

function resolveShared(o: Record<string, unknown>, platform: PlatformInfo): Omit<ResolvedConnectOptions, 'auth' | 'signal'> {
  let maxSegmentSize = DEFAULT_MAX_SEGMENT_SIZE;
  if (o.maxSegmentSize !== undefined) {
    if (!Number.isSafeInteger(o.maxSegmentSize) || (o.maxSegmentSize as number) < 2) {
      throw new InvalidArgumentError('options.maxSegmentSize', 'an integer of at least 2', o.maxSegmentSize);
    }
    maxSegmentSize = o.maxSegmentSize as number;
  }
  let maxMessageSize = DEFAULT_MAX_MESSAGE_SIZE;
  if (o.maxMessageSize !== undefined) {
    if (!Number.isSafeInteger(o.maxMessageSize) || (o.maxMessageSize as number) < 1) {
      throw new InvalidArgumentError('options.maxMessageSize', 'a positive integer', o.maxMessageSize);
    }
    maxMessageSize = o.maxMessageSize as number;
  }
  let pingDelay: number | null = DEFAULT_PING_DELAY;
  if (o.pingDelay === null) pingDelay = null;
  else if (o.pingDelay !== undefined) pingDelay = positive(o.pingDelay, 'options.pingDelay', 'a positive number or null');
  let tls: TlsOptions | null = null;
  if (o.tls !== undefined) {
    if (platform.name !== 'node') throw nodeOnly('options.tls');
    const t = checkObject(o.tls, 'options.tls', new Set(['ca', 'cert', 'key']));
    for (const field of ['ca', 'cert', 'key'] as const) {
      if (t[field] !== undefined && !isTlsMaterial(t[field])) {
        throw new InvalidArgumentError(`options.tls.${field}`, 'a string, a Uint8Array or an array of them', t[field]);
      }
    }
    tls = t as TlsOptions;
  }
  return {
    onNotify: optionalFunction(o.onNotify, 'options.onNotify') as ResolvedConnectOptions['onNotify'],
    onError: (optionalFunction(o.onError, 'options.onError') as ResolvedConnectOptions['onError'] | null) ?? defaultOnError,
    tls,
    maxSegmentSize,
    maxMessageSize,
    pingDelay,
    pingTimeout: o.pingTimeout === undefined ? DEFAULT_PING_TIMEOUT : positive(o.pingTimeout, 'options.pingTimeout'),
    connectTimeout: o.connectTimeout === undefined ? DEFAULT_CONNECT_TIMEOUT : positive(o.connectTimeout, 'options.connectTimeout'),
  };
}

function checkObject(value: unknown, name: string, keys: ReadonlySet<string>): Record<string, unknown> {
  if (value === undefined && name === 'options') return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InvalidArgumentError(name, 'an object', value);
  const o = value as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!keys.has(key)) {
      throw new InvalidArgumentError(`${name}.${key}`, `absent: it is not a known option (known: ${[...keys].join(', ')})`);
    }
  }
  return o;
}

function positive(value: unknown, name: string, expected = 'a positive number'): number {
  // Timers take at most 2^31 - 1 ms; anything longer would fire at once.
  if (typeof value !== 'number' || !(value > 0) || value > 2147483647) throw new InvalidArgumentError(name, expected, value);
  return value;
}

function optionalFunction(value: unknown, name: string): ((...args: never[]) => unknown) | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'function') throw new InvalidArgumentError(name, 'a function', value);
  return value as (...args: never[]) => unknown;
}

function checkSignal(value: unknown): AbortSignal {
  if (value === null || typeof value !== 'object' || typeof (value as AbortSignal).addEventListener !== 'function' || !('aborted' in value)) {
    throw new InvalidArgumentError('options.signal', 'an AbortSignal', value);
  }
  return value as AbortSignal;
}

function isTlsMaterial(value: unknown): boolean {
  const one = (v: unknown) => typeof v === 'string' || v instanceof Uint8Array;
  return one(value) || (Array.isArray(value) && value.every(one));
}

function nodeOnly(name: string): InvalidArgumentError {
  return new InvalidArgumentError(name, 'unset in a browser (a browser sends its own credentials and checks certificates itself)');
}
