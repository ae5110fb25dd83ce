/**
 * Every error koa-juggler raises or rejects with. Each has a stable `code`
 * (for programs) and a `name` (for people); protocol errors also carry the
 * WebSocket close code they cause. No `node:*` imports: the browser client
 * uses this file too.
 */
import { CLOSE_INTERNAL_ERROR, CLOSE_PROTOCOL_ERROR } from './transport/close-codes.js';
import type { JsonValue } from './json.js';

/**
 * The remote side refused a request: thrown by a request handler to send
 * `data` as the failed response, and rejected by the client with the
 * response's `data`.
 *
 * @example
 * throw new JugglerError({ reason: 'not allowed', field: 'speed' })
 */
export class JugglerError extends Error {
  /** Always `'JugglerError'`: tells the error apart after serialization or across realms. */
  override readonly name = 'JugglerError';
  /** The stable code of this error class, for programs to test instead of the message. */
  readonly code = 'ERR_JUGGLER';
  /** The JSON value sent as (or received in) the failed response. */
  readonly data: JsonValue;

  constructor(data: JsonValue = null) {
    super(typeof data === 'string' ? data : safeDescribe(data));
    this.data = data;
  }
}

/** Invalid input on the wire. Closes the connection with {@link ProtocolError.closeCode}. */
export class ProtocolError extends Error {
  /** Always `'ProtocolError'`: tells the error apart after serialization or across realms. */
  override readonly name = 'ProtocolError';
  /** A stable code naming what was wrong (e.g. `ERR_BAD_JSON`), for programs to test instead of the message. */
  readonly code: string;
  /** The WebSocket close code this error causes (1002 unless stated). */
  readonly closeCode: number;

  constructor(message: string, options: { code?: string; closeCode?: number } = {}) {
    super(message);
    this.code = options.code ?? 'ERR_PROTOCOL';
    this.closeCode = options.closeCode ?? CLOSE_PROTOCOL_ERROR;
  }
}

/**
 * A bug of ours, not the peer's fault: something threw inside koa-juggler
 * where nothing should. The connection closes with 1011 (internal error),
 * which `reconnect()` retries; `cause` is what was thrown.
 */
export class InternalError extends Error {
  /** Always `'InternalError'`: tells the error apart after serialization or across realms. */
  override readonly name = 'InternalError';
  /** The stable code of this error class, for programs to test instead of the message. */
  readonly code = 'ERR_INTERNAL';
  /** The WebSocket close code this error causes: 1011. */
  readonly closeCode = CLOSE_INTERNAL_ERROR;

  /** @param cause what was thrown */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The connection was closed with a close frame (by either side) before the operation finished. */
export class ConnectionClosedError extends Error {
  /** Always `'ConnectionClosedError'`: tells the error apart after serialization or across realms. */
  override readonly name = 'ConnectionClosedError';

  constructor(
    /**
     * The WebSocket close code. Unlike the other errors, whose `code` is a
     * stable string, this one's `code` is the close code (the public API names it so).
     */
    readonly code: number,
    /** The close reason, possibly empty. */
    readonly reason: string = '',
  ) {
    super(`connection closed (${code}${reason ? `: ${reason}` : ''})`);
  }

  /** The close code, under the name {@link ProtocolError} uses for it. */
  get closeCode(): number {
    return this.code;
  }
}

/** The connection dropped without a close handshake (network failure, ping timeout). */
export class ConnectionLostError extends Error {
  /** Always `'ConnectionLostError'`: tells the error apart after serialization or across realms. */
  override readonly name = 'ConnectionLostError';
  /** The stable code of this error class, for programs to test instead of the message. */
  readonly code = 'ERR_CONNECTION_LOST';

  /** @param options.cause what made the connection unusable, when known */
  constructor(message = 'connection lost', options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Why a connection attempt failed; see {@link ConnectError.kind}. */
export type ConnectFailure = 'refused' | 'http' | 'tls' | 'timeout' | 'aborted' | 'network' | 'handshake' | 'unsupported';

/**
 * A connection attempt failed before the WebSocket opened. `kind` says how:
 * `'refused'` (nothing listens there), `'http'` (the server answered the
 * upgrade with an HTTP status, in `status`: 401, 403, 404, 503...), `'tls'`
 * (certificate or TLS negotiation), `'timeout'` (`connectTimeout` elapsed),
 * `'aborted'` (the caller's signal), `'handshake'` (an invalid WebSocket
 * handshake answer), `'network'` (anything else, and every failure in a
 * browser, which does not say why), `'unsupported'` (no `WebSocket` at
 * all where the browser build runs: never worth another attempt).
 */
export class ConnectError extends Error {
  /** Always `'ConnectError'`: tells the error apart after serialization or across realms. */
  override readonly name = 'ConnectError';
  /** The stable code of this error class, for programs to test instead of the message. */
  readonly code = 'ERR_CONNECT';
  /** How the attempt failed. */
  readonly kind: ConnectFailure;
  /** The HTTP status the server answered the upgrade with (`kind === 'http'`), else null. */
  readonly status: number | null;
  /** The address that was tried. */
  readonly url: string;

  constructor(url: string, kind: ConnectFailure, message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.url = url;
    this.kind = kind;
    this.status = options.status ?? null;
  }
}

/**
 * A reconnecting client stopped trying: a fatal close code, an HTTP 401 or
 * 403 on the handshake, or its time budget ran out. `cause` is the error
 * that decided it.
 */
export class GaveUpError extends Error {
  /** Always `'GaveUpError'`: tells the error apart after serialization or across realms. */
  override readonly name = 'GaveUpError';
  /** The stable code of this error class, for programs to test instead of the message. */
  readonly code = 'ERR_GAVE_UP';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A caller's `timeout` elapsed before the answer arrived. */
export class TimeoutError extends Error {
  /** Always `'TimeoutError'`: tells the error apart after serialization or across realms. */
  override readonly name = 'TimeoutError';
  /** The stable code of this error class, for programs to test instead of the message. */
  readonly code = 'ERR_TIMEOUT';

  constructor(message = 'timed out') {
    super(message);
  }
}

/** A feature of the koa-juggler.v1 extension was used on a connection that did not negotiate it. */
export class ExtensionUnavailableError extends Error {
  /** Always `'ExtensionUnavailableError'`: tells the error apart after serialization or across realms. */
  override readonly name = 'ExtensionUnavailableError';
  /** The stable code of this error class, for programs to test instead of the message. */
  readonly code = 'ERR_EXTENSION_UNAVAILABLE';

  constructor(feature: string) {
    super(`${feature} needs the koa-juggler.v1 extension, which this server did not select`);
  }
}

/**
 * Redis did not take a cluster write (or keyed request) in time: it waited
 * past `writeTimeout`, or `maxPendingWrites` were already waiting. `sent`
 * says whether the write had gone to Redis: when true it may still land
 * (its reply was lost); when false it never will.
 */
export class ClusterUnavailableError extends Error {
  /** Always `'ClusterUnavailableError'`: tells the error apart after serialization or across realms. */
  override readonly name = 'ClusterUnavailableError';
  /** The stable code of this error class, for programs to test instead of the message. */
  readonly code = 'ERR_CLUSTER_UNAVAILABLE';
  /** Whether the write had been sent to Redis (and so may still be applied). */
  readonly sent: boolean;

  constructor(message: string, options: { sent: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.sent = options.sent;
  }
}

/** A bad argument to the public API: a `TypeError` whose message names the argument. */
export class InvalidArgumentError extends TypeError {
  /** Always `'InvalidArgumentError'`: tells the error apart after serialization or across realms. */
  override readonly name = 'InvalidArgumentError';
  /** The stable code of this error class, for programs to test instead of the message. */
  readonly code = 'ERR_INVALID_ARG';
  /** The argument (or option) that was wrong, e.g. `options.port`. */
  readonly argument: string;

  constructor(argument: string, expected: string, actual?: unknown) {
    super(`${argument} must be ${expected}${arguments.length > 2 ? `, got ${describe(actual)}` : ''}`);
    this.argument = argument;
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '...' : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'undefined') return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

function safeDescribe(data: unknown): string {
  try {
    const text = JSON.stringify(data);
    return text === undefined ? 'request failed' : text.length > 200 ? text.slice(0, 200) + '...' : text;
  } catch {
    return 'request failed';
  }
}
