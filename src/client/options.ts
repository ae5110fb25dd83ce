/**
 * Options of `connect()`, `reconnect()` and `send()`: the one place where
 * they are validated and merged with their defaults. The interfaces users
 * see are in connect-options.ts (re-exported here).
 */
import { resolveCompression } from '../compression-option.js';
import { InvalidArgumentError } from '../errors.js';
import type { JsonValue } from '../json.js';
import { MAX_KEY_LENGTH } from '../protocol/messages.js';
import type { AuthSource, BackoffOptions, BasicAuth, PlatformInfo, TlsOptions } from './connect-options.js';

export type {
  AuthSource,
  BackoffOptions,
  BasicAuth,
  ConnectOptions,
  PlatformInfo,
  ReconnectOptions,
  RequestOptions,
  TlsMaterial,
  TlsOptions,
} from './connect-options.js';

/** Default of {@link ConnectOptions.maxSegmentSize}, as in hat-juggler. */
export const DEFAULT_MAX_SEGMENT_SIZE = 65536;
/** Default of {@link ConnectOptions.maxMessageSize}: 64 MiB. */
export const DEFAULT_MAX_MESSAGE_SIZE = 64 * 1024 * 1024;
/** Default of {@link ConnectOptions.maxJsonDepth}. */
export const DEFAULT_CLIENT_MAX_JSON_DEPTH = 128;
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

/** Where a new connection resumes from (koa-juggler.v1). */
export interface ResumeFrom {
  /** Token to present in `hello`, or null. */
  session: string | null;
  /** Version of `state` to present in `hello`, or null (then `state` is ignored). */
  version: string | null;
  /** The value at `version`; the client starts from it. */
  state: JsonValue;
}

/** ConnectOptions with defaults applied; what the client runs on. */
export interface ResolvedConnectOptions {
  onNotify: ((name: string, data: JsonValue) => void) | null;
  onError: (err: unknown) => void;
  auth: BasicAuth | null;
  tls: TlsOptions | null;
  /** per-message deflate (RFC 7692) to offer (Node), or null. */
  compression: { threshold: number } | null;
  maxSegmentSize: number;
  maxMessageSize: number;
  maxJsonDepth: number;
  pingDelay: number | null;
  pingTimeout: number;
  connectTimeout: number;
  signal: AbortSignal | null;
  extensions: boolean;
  snapshots: boolean;
  onStatus: ((stale: boolean) => void) | null;
  resume: ResumeFrom;
}

/** ReconnectOptions with defaults applied; `connect` is what each attempt runs with (plus `auth`, a signal and where to resume). */
export interface ResolvedReconnectOptions {
  connect: Omit<ResolvedConnectOptions, 'auth' | 'signal' | 'resume'>;
  auth: AuthSource | null;
  backoff: Required<BackoffOptions>;
  budget: number | null;
  fatalCloseCodes: ReadonlySet<number>;
  onAttempt: ((attempt: number, url: string) => void) | null;
  onConnected: ((url: string) => void) | null;
  onDisconnected: ((err: Error) => void) | null;
  onGiveUp: ((err: Error) => void) | null;
  autoKey: boolean;
}

const SHARED_KEYS = [
  'onNotify', 'onError', 'auth', 'tls', 'compression', 'maxSegmentSize', 'maxMessageSize', 'maxJsonDepth', 'pingDelay', 'pingTimeout', 'connectTimeout', 'extensions',
  'snapshots', 'onStatus',
];
// Options that had another name, so that the old one gets a message saying so.
const RENAMED: Readonly<Record<string, string>> = { extension: 'extensions' };
const CONNECT_KEYS = new Set([...SHARED_KEYS, 'signal', 'session', 'version', 'state']);
const RECONNECT_KEYS = new Set([
  ...SHARED_KEYS, 'backoff', 'budget', 'fatalCloseCodes', 'onAttempt', 'onConnected', 'onDisconnected', 'onGiveUp', 'autoKey',
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
    resume: resolveResume(o),
  };
}

function resolveResume(o: Record<string, unknown>): ResumeFrom {
  const session = optionalString(o.session, 'options.session');
  const version = optionalString(o.version, 'options.version');
  // A diff from `version` applies only to the value it names: without that value, ask for the whole one.
  if (version === null || o.state === undefined) return { session, version: null, state: null };
  return { session, version, state: o.state as JsonValue };
}

function optionalString(value: unknown, name: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value === '') throw new InvalidArgumentError(name, 'a non-empty string or null', value);
  return value;
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
    onAttempt: optionalFunction(o.onAttempt, 'options.onAttempt') as ResolvedReconnectOptions['onAttempt'],
    onConnected: optionalFunction(o.onConnected, 'options.onConnected') as ResolvedReconnectOptions['onConnected'],
    onDisconnected: optionalFunction(o.onDisconnected, 'options.onDisconnected') as ResolvedReconnectOptions['onDisconnected'],
    onGiveUp: optionalFunction(o.onGiveUp, 'options.onGiveUp') as ResolvedReconnectOptions['onGiveUp'],
    autoKey: optionalBoolean(o.autoKey, 'options.autoKey', true),
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

/** `send()`'s options, validated: `key` is undefined when not given (a reconnecting client then picks one). */
export interface ResolvedRequestOptions {
  timeout: number | null;
  key?: string | null;
}

/**
 * Validates `send()`'s per-request options.
 * @throws InvalidArgumentError naming the bad option
 */
/**
 * Checks the arguments of a `send()` (a single connection's and the
 * reconnecting client's alike).
 * @throws InvalidArgumentError naming `name` or the bad option
 */
export function resolveSendArguments(name: unknown, options: unknown): ResolvedRequestOptions {
  if (typeof name !== 'string') throw new InvalidArgumentError('name', 'a string', name);
  return resolveRequestOptions(options);
}

export function resolveRequestOptions(options: unknown): ResolvedRequestOptions {
  if (options === undefined) return { timeout: null };
  const o = checkObject(options, 'options', new Set(['timeout', 'key']));
  const resolved: ResolvedRequestOptions = {
    timeout: o.timeout === undefined || o.timeout === null ? null : positive(o.timeout, 'options.timeout'),
  };
  if (o.key === null) resolved.key = null;
  else if (o.key !== undefined) {
    if (typeof o.key !== 'string' || o.key.length === 0 || o.key.length > MAX_KEY_LENGTH) {
      throw new InvalidArgumentError('options.key', `a string of 1 to ${MAX_KEY_LENGTH} characters, or null`, o.key);
    }
    resolved.key = o.key;
  }
  return resolved;
}

function resolveShared(o: Record<string, unknown>, platform: PlatformInfo): Omit<ResolvedConnectOptions, 'auth' | 'signal' | 'resume'> {
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
  let maxJsonDepth = DEFAULT_CLIENT_MAX_JSON_DEPTH;
  if (o.maxJsonDepth !== undefined) {
    if (!Number.isSafeInteger(o.maxJsonDepth) || (o.maxJsonDepth as number) < 1) {
      throw new InvalidArgumentError('options.maxJsonDepth', 'a positive integer', o.maxJsonDepth);
    }
    maxJsonDepth = o.maxJsonDepth as number;
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
  if (o.compression !== undefined && o.compression !== false && platform.name !== 'node') throw nodeOnly('options.compression');
  return {
    compression: resolveCompression(o.compression, 'options.compression'),
    onNotify: optionalFunction(o.onNotify, 'options.onNotify') as ResolvedConnectOptions['onNotify'],
    onError: (optionalFunction(o.onError, 'options.onError') as ResolvedConnectOptions['onError'] | null) ?? defaultOnError,
    tls,
    maxSegmentSize,
    maxMessageSize,
    maxJsonDepth,
    pingDelay,
    pingTimeout: o.pingTimeout === undefined ? DEFAULT_PING_TIMEOUT : positive(o.pingTimeout, 'options.pingTimeout'),
    connectTimeout: o.connectTimeout === undefined ? DEFAULT_CONNECT_TIMEOUT : positive(o.connectTimeout, 'options.connectTimeout'),
    extensions: optionalBoolean(o.extensions, 'options.extensions', true),
    snapshots: optionalBoolean(o.snapshots, 'options.snapshots', false),
    onStatus: optionalFunction(o.onStatus, 'options.onStatus') as ResolvedConnectOptions['onStatus'],
  };
}

function optionalBoolean(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new InvalidArgumentError(name, 'a boolean', value);
  return value;
}

function checkObject(value: unknown, name: string, keys: ReadonlySet<string>): Record<string, unknown> {
  if (value === undefined && name === 'options') return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InvalidArgumentError(name, 'an object', value);
  const o = value as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!keys.has(key)) {
      const renamed = RENAMED[key];
      if (renamed !== undefined && keys.has(renamed)) throw new InvalidArgumentError(`${name}.${key}`, `absent: it is now ${name}.${renamed}`);
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
