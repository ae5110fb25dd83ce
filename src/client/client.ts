/**
 * One client connection: the juggler user layer over a {@link Transport}
 * (segmentation, pings, keepalive) on a {@link ClientSocket}. Runs
 * unchanged in Node and browsers; `connect()` creates it.
 */
import {
  ConnectionClosedError,
  ConnectionLostError,
  ExtensionUnavailableError,
  InvalidArgumentError,
  ProtocolError,
} from '../errors.js';
import { encodeJson, type JsonValue } from '../json.js';
import { parseServerMessage, type ServerMessage } from '../protocol/messages.js';
import { applyPatch } from '../state/apply-patch.js';
import type { Patch } from '../state/patch.js';
import { CLOSE_ABNORMAL, CLOSE_NORMAL, CLOSE_UNSUPPORTED_DATA, clampReason, isApplicationCloseCode } from '../transport/close-codes.js';
import { Transport } from '../transport/transport.js';
import { resolveRequestOptions, type RequestOptions, type ResolvedConnectOptions } from './options.js';
import { PendingRequests } from './pending.js';
import type { ClientSocket, SocketHandlers } from './socket.js';

/** Where a client is in its life: `'open'` until `close()` or the server ends it, `'closed'` once `closed` has resolved. */
export type ClientStatus = 'open' | 'closing' | 'closed';

/**
 * Called after each change of the remote state, with the new state and the
 * diff that made it. Both are the client's own objects: read, don't write.
 * Values inside `diff` became part of `state` without a copy, so a diff
 * kept after the call changes with later diffs: clone what you keep.
 */
export type ChangeListener = (state: JsonValue, diff: Patch) => void;

/** `Symbol.asyncDispose`, or its registered stand-in where the runtime has none yet (older browsers). */
export const ASYNC_DISPOSE = ((Symbol as { asyncDispose?: symbol }).asyncDispose ?? Symbol.for('Symbol.asyncDispose')) as typeof Symbol.asyncDispose;

/**
 * A juggler client connection. Create it with `connect()`.
 *
 * `state` is kept by applying the server's diffs **in place**: objects and
 * arrays on a changed path are mutated, untouched ones keep their identity,
 * and the root object changes only when a diff replaces it. A UI framework
 * that detects changes by reference must re-render from `onChange` (or
 * clone), not compare `state` with its previous value.
 *
 * Errors: `send()` rejects with JugglerError when the server answers with
 * a failure, ConnectionClosedError when the connection closes first with a
 * close frame (from either side), ConnectionLostError when it drops
 * without one (network, ping timeout), ProtocolError when the server sent
 * something invalid (the client then closes with 1002, 1003 or 1009), and
 * TimeoutError when the request's own `timeout` elapses.
 */
export class Client {
  /** The address this client connected to. */
  readonly url: string;
  readonly #socket: ClientSocket;
  readonly #transport: Transport;
  readonly #options: ResolvedConnectOptions;
  readonly #pending = new PendingRequests();
  readonly #listeners = new Set<ChangeListener>();
  // Whether koa-juggler.v1 was negotiated. Never, for now: the client does
  // not offer it yet. Extension messages will dispatch on it (#onMessage).
  readonly #extension: boolean = false;
  #status: ClientStatus = 'open';
  #state: JsonValue = null;
  #error: Error | null = null;
  #closeTimer: ReturnType<typeof setTimeout> | null = null;
  readonly #closed: Promise<void>;
  #resolveClosed!: () => void;

  /**
   * Not for applications: use `connect()`.
   * @param onOpen called once the client exists and before any message is
   *   handled, so that an owner (the reconnecting client) misses nothing
   * @internal
   */
  constructor(url: string, socket: ClientSocket, options: ResolvedConnectOptions, onOpen?: (client: Client) => void) {
    this.url = url;
    this.#socket = socket;
    this.#options = options;
    this.#closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    this.#transport = new Transport(
      socket,
      {
        maxSegmentSize: options.maxSegmentSize,
        maxMessageSize: options.maxMessageSize,
        pingDelay: options.pingDelay,
        pingTimeout: options.pingTimeout,
        // The client never waits for room; the socket buffers what it sends.
        sendQueueSize: Number.POSITIVE_INFINITY,
        framing: 'segmented',
      },
      {
        message: (text) => this.#onMessage(text),
        lost: (reason) => this.#teardown(new ConnectionLostError(`connection lost: ${reason}`)),
      },
    );
    onOpen?.(this);
    // Handle messages from the next task on (the socket holds them until
    // then), so that listeners registered right after `await connect()`
    // see the first state too.
    setTimeout(() => socket.listen(this.#handlers), 0);
  }

  /** The remote state: `null` until the first diff, then updated in place by each diff (see the class notes). */
  get state(): JsonValue {
    return this.#state;
  }

  /** `'open'`, `'closing'` (close started, pending requests already failed) or `'closed'`. */
  get status(): ClientStatus {
    return this.#status;
  }

  /** Resolves once the connection is closed, however that happened. Never rejects. */
  get closed(): Promise<void> {
    return this.#closed;
  }

  /**
   * Why the connection ended, once it is closing or closed: the error its
   * pending requests failed with (ConnectionClosedError for a close by
   * either side, ConnectionLostError, or ProtocolError). `null` while open.
   */
  get error(): Error | null {
    return this.#error;
  }

  /**
   * Calls `listener(state, diff)` after each diff from the server, after
   * `state` has been updated. A listener that throws is reported to
   * `options.onError` and does not affect the others. The client handles
   * no message before the task after `connect()` resolved, so a listener
   * registered synchronously after `await connect()` sees the first state;
   * one registered later should start from `state`.
   * @returns a function that unregisters the listener
   * @throws InvalidArgumentError when `listener` is not a function
   */
  onChange(listener: ChangeListener): () => void {
    if (typeof listener !== 'function') throw new InvalidArgumentError('listener', 'a function', listener);
    if (this.#status === 'closed') return () => {};
    // A wrapper, so that registering the same function twice gives two independent registrations.
    const entry: ChangeListener = (state, diff) => listener(state, diff);
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  /**
   * Sends a request and resolves with the server's answer. Requests are
   * pipelined: many may be in flight, and each settles on its own answer.
   *
   * @param name the request name (`''` makes the server echo `data`)
   * @param data any JSON value; `undefined` is sent as `null`
   * @param options `timeout`: reject with TimeoutError after this many ms
   *   (nothing is sent to the server; a late answer is ignored)
   * @throws (rejects) JugglerError with the server's `data` when it answered with a failure;
   *   ConnectionClosedError, ConnectionLostError or ProtocolError when the
   *   connection ends first or has ended; TimeoutError; InvalidArgumentError
   *   for a bad `name`, `data` that JSON cannot carry, or bad options
   */
  send(name: string, data: JsonValue = null, options?: RequestOptions): Promise<JsonValue> {
    if (typeof name !== 'string') return Promise.reject(new InvalidArgumentError('name', 'a string', name));
    let timeout: number | null;
    try {
      timeout = resolveRequestOptions(options).timeout;
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.#status !== 'open') return Promise.reject(this.#afterCloseError());
    const id = this.#pending.nextId();
    let text: string;
    try {
      text = encodeJson({ type: 'request', id, name, data });
    } catch (err) {
      return Promise.reject(new InvalidArgumentError('data', `a JSON value (${(err as Error).message})`));
    }
    const answer = this.#pending.add(id, name, timeout);
    this.#transport.sendText(text);
    return answer;
  }

  /**
   * One-way message to the server. Needs the koa-juggler.v1 extension,
   * which this client does not negotiate yet.
   * @throws (rejects) ExtensionUnavailableError, always for now
   */
  notify(name: string, data: JsonValue = null): Promise<void> {
    void name;
    void data;
    return Promise.reject(new ExtensionUnavailableError('notify()'));
  }

  /**
   * Streaming call. Needs the koa-juggler.v1 extension, which this client
   * does not negotiate yet.
   * @throws ExtensionUnavailableError, always for now
   */
  stream(name: string, data: JsonValue = null): never {
    void name;
    void data;
    throw new ExtensionUnavailableError('stream()');
  }

  /**
   * Closes the connection with a close frame. Requests in flight fail at
   * once with ConnectionClosedError(code, reason); `closed` resolves when
   * the server has answered the close (or after `pingTimeout` if it does
   * not). Calling it again, or after the connection ended, does nothing.
   *
   * @param code 1000 (the default) or an application code 4000–4999
   * @param reason up to 123 bytes of UTF-8 (longer is cut)
   * @throws InvalidArgumentError for another code or a non-string reason
   */
  close(code: number = CLOSE_NORMAL, reason = ''): void {
    if (!isApplicationCloseCode(code)) throw new InvalidArgumentError('code', '1000 or an application code from 4000 to 4999', code);
    if (typeof reason !== 'string') throw new InvalidArgumentError('reason', 'a string', reason);
    if (this.#status !== 'open') return;
    this.#startClose(new ConnectionClosedError(code, reason), code, reason);
  }

  /** `await using client = await connect(...)`: closes with 1000 and waits until closed. */
  async [ASYNC_DISPOSE](): Promise<void> {
    this.close();
    await this.#closed;
  }

  readonly #handlers: SocketHandlers = {
    message: (frame, byteLength) => {
      if (this.#status !== 'open') return;
      try {
        this.#transport.receive(frame, byteLength);
      } catch (err) {
        this.#protocolError(err);
      }
    },
    binary: () => {
      this.#protocolError(new ProtocolError('binary frame from the server (juggler sends text only)', { closeCode: CLOSE_UNSUPPORTED_DATA }));
    },
    invalid: (err) => {
      // The socket is already closing with err.closeCode; only record why.
      if (this.#status !== 'open') return;
      this.#error = err;
      this.#status = 'closing';
      this.#transport.close();
      this.#pending.failAll(err);
      this.#armCloseTimer();
    },
    close: (code, reason, cause) => {
      if (this.#status === 'closed') return;
      if (this.#error === null && code === CLOSE_ABNORMAL) {
        const detail = cause ? `: ${cause.message}` : ' (closed without a close frame)';
        this.#teardown(new ConnectionLostError(`connection lost${detail}`, { cause }));
      } else {
        this.#teardown(new ConnectionClosedError(code, reason));
      }
    },
  };

  #onMessage(text: string): void {
    if (this.#status !== 'open') return;
    let message: ServerMessage;
    try {
      message = parseServerMessage(text, this.#extension);
    } catch (err) {
      this.#protocolError(err);
      return;
    }
    switch (message.type) {
      case 'response':
        // An unknown id is the late answer to a request that timed out.
        this.#pending.settle(message.id, message.success, message.data);
        return;
      case 'state':
        this.#applyDiff(message.diff);
        return;
      case 'notify':
        if (this.#options.onNotify !== null) this.#call(this.#options.onNotify, message.name, message.data);
        return;
      default:
        // welcome and stream-* only parse on an extension connection, which
        // this client does not negotiate yet; the extension dispatches here.
        this.#protocolError(new ProtocolError(`unexpected ${message.type} message`));
    }
  }

  #applyDiff(diff: Patch): void {
    let next: JsonValue;
    try {
      next = applyPatch(this.#state, diff);
    } catch (err) {
      // applyPatch undid what it had applied: state stays the last good value.
      this.#protocolError(err);
      return;
    }
    this.#state = next;
    for (const listener of [...this.#listeners]) this.#call(listener, next, diff);
  }

  /** Runs a user callback; what it throws (or a promise it returns rejects with) goes to onError. */
  #call<A extends unknown[]>(fn: (...args: A) => unknown, ...args: A): void {
    try {
      const result = fn(...args);
      if (result !== null && typeof result === 'object' && typeof (result as Promise<unknown>).then === 'function') {
        (result as Promise<unknown>).then(undefined, (err: unknown) => this.#report(err));
      }
    } catch (err) {
      this.#report(err);
    }
  }

  #report(err: unknown): void {
    try {
      this.#options.onError(err);
    } catch {
      // An onError that throws has nowhere left to report to.
    }
  }

  /** The server sent something invalid: fail everything pending with it and close with its code. */
  #protocolError(err: unknown): void {
    if (this.#status !== 'open') return;
    const error = err instanceof ProtocolError ? err : new ProtocolError(`invalid input from the server: ${(err as Error).message}`);
    this.#startClose(error, error.closeCode, error.message);
  }

  #startClose(error: Error, code: number, reason: string): void {
    this.#error = error;
    this.#status = 'closing';
    this.#transport.close();
    this.#pending.failAll(error);
    this.#socket.close(code, clampReason(reason));
    this.#armCloseTimer();
  }

  // A server that never answers the close frame must not keep `closed` pending forever.
  #armCloseTimer(): void {
    this.#closeTimer = setTimeout(() => {
      this.#closeTimer = null;
      this.#socket.destroy();
      this.#teardown(this.#error ?? new ConnectionLostError('no close frame from the server'));
    }, this.#options.pingTimeout);
  }

  /** The one way to `'closed'`: stops timers, fails what is pending, drops listeners, resolves `closed`. */
  #teardown(error: Error): void {
    if (this.#status === 'closed') return;
    this.#status = 'closed';
    this.#error ??= error;
    this.#transport.close();
    if (this.#closeTimer !== null) clearTimeout(this.#closeTimer);
    this.#closeTimer = null;
    this.#pending.failAll(this.#error);
    this.#listeners.clear();
    this.#resolveClosed();
  }

  /** A fresh error for calls made after the end, of the kind that ended it. */
  #afterCloseError(): Error {
    const error = this.#error;
    if (error instanceof ConnectionClosedError) return new ConnectionClosedError(error.closeCode, error.reason);
    if (error instanceof ProtocolError) return new ConnectionClosedError(error.closeCode, clampReason(error.message));
    return new ConnectionLostError(error?.message ?? 'connection lost', { cause: error });
  }
}
