/**
 * One client connection: the juggler user layer over a {@link Transport}
 * (segmentation, pings, keepalive) on a {@link ClientSocket}, and, when the
 * server selected it, the koa-juggler.v1 extension (hello/welcome, session,
 * versions, keyed requests, notify, streams). Runs unchanged in Node and
 * browsers; `connect()` creates it.
 */
import {
  ConnectionClosedError,
  ConnectionLostError,
  ExtensionUnavailableError,
  InternalError,
  InvalidArgumentError,
  ProtocolError,
} from '../errors.js';
import { encodeJson, type JsonValue } from '../json.js';
import {
  EXTENSION_PROTOCOL,
  parseServerMessage,
  type ServerMessage,
  type WelcomeMessage,
} from '../protocol/messages.js';
import type { Patch } from '../state/patch.js';
import { canonicalView, type ViewPaths } from '../state/view-paths.js';
import { CLOSE_ABNORMAL, CLOSE_NORMAL, CLOSE_UNSUPPORTED_DATA, clampReason, isApplicationCloseCode } from '../transport/close-codes.js';
import { Transport } from '../transport/transport.js';
import { CallTable } from './call-table.js';
import type { ClientCall } from './client-call.js';
import { resolveSendArguments, type RequestOptions, type ResolvedConnectOptions } from './options.js';
import { PendingRequests } from './pending.js';
import { RemoteState, type ChangeListener } from './remote-state.js';
import type { ApiMap, ClientNotifyData, ClientNotifyName, RequestData, RequestName, RequestResult, StateOf, StreamClientItem, StreamData, StreamItem, StreamName, UntypedApi } from '../protocol/api-map.js';
import { addListener, reportTo, runCallback } from './run-callback.js';
import type { ClientSocket, SocketHandlers } from './socket.js';

export type { ChangeListener } from './remote-state.js';

/** Where a client is in its life: `'open'` until `close()` or the server ends it, `'closed'` once `closed` has resolved. */
export type ClientStatus = 'open' | 'closing' | 'closed';

/** `Symbol.asyncDispose`, or its registered stand-in where the runtime has none yet (older browsers). */
export const ASYNC_DISPOSE = ((Symbol as { asyncDispose?: symbol }).asyncDispose ?? Symbol.for('Symbol.asyncDispose')) as typeof Symbol.asyncDispose;

/**
 * What the client's own modules (connect(), the reconnecting client) reach
 * inside a {@link Client}. Not members of Client, and neither client entry
 * exports this, so applications cannot call them.
 */
export interface ClientInternals {
  /** Resolves once ready (see the constructor), rejects when the connection ends first. */
  ready(client: Client): Promise<void>;
  /**
   * `send()` after validation, with the id it got (-1 when nothing was
   * sent), for the reconnecting client, which re-sends keyed requests and
   * runs its own timeout.
   */
  request(client: Client, name: string, data: JsonValue, key: string | null, timeout: number | null): { id: number; answer: Promise<JsonValue> };
  /** Stops waiting for request `id`: its answer rejects with `err`; a late response is ignored. */
  forget(client: Client, id: number, err: Error): void;
  /** Drops the connection at once (an abandoned attempt): no close handshake. */
  abandon(client: Client, error: Error): void;
  /**
   * Calls `fn` once, synchronously, when the first response of the
   * connection arrives (before its request settles): the sign for the
   * reconnecting client that no state is coming first.
   */
  onFirstResponse(client: Client, fn: () => void): void;
}

/** Filled in by Client's static block, the only code that can reach its private members. */
export const CLIENT_INTERNALS = {} as ClientInternals;

/**
 * A juggler client connection. Create it with `connect()`.
 *
 * `state` is kept by applying the server's diffs **in place**: objects and
 * arrays on a changed path are mutated, untouched ones keep their identity,
 * and the root object changes only when a diff replaces it. A UI framework
 * that detects changes by reference must re-render from `onChange` (or
 * clone), not compare `state` with its previous value, or connect with
 * `snapshots: true`: then each diff gives a new root and new objects along
 * every changed path, the rest shared (docs/client.md, "Snapshots").
 *
 * On a koa-juggler.v1 connection (`extension` is true) the client has
 * said `hello` and `connect()` resolved after the server's `welcome`, so
 * `session` and `resumed` are known from the start; `version` follows the
 * state; `send()` may carry an idempotency `key`; `notify()` and
 * `stream()` work. On a plain connection those two fail with
 * ExtensionUnavailableError.
 *
 * Errors: `send()` rejects with JugglerError when the server answers with
 * a failure, ConnectionClosedError when the connection closes first with a
 * close frame (from either side), ConnectionLostError when it drops
 * without one (network, ping timeout), ProtocolError when the server sent
 * something invalid (the client then closes with 1002, 1003 or 1009),
 * InternalError when something failed inside the client itself (a bug of
 * ours: it closes with 1011), and TimeoutError when the request's own
 * `timeout` elapses. Open stream calls fail with the same connection
 * errors.
 *
 * Typed: `connect<Api>()` gives a `Client<Api>`, whose `state`, `send()`,
 * `notify()` and `stream()` follow the API map `Api` (README, "Types").
 */
export class Client<Api extends ApiMap = UntypedApi> {
  static {
    Object.assign(CLIENT_INTERNALS, {
      ready: (client) => client.#ready,
      request: (client, name, data, key, timeout) => client.#request(name, data, key, timeout),
      forget: (client, id, err) => client.#pending.fail(id, err),
      abandon: (client, error) => {
        if (client.#status === 'closed') return;
        client.#socket.destroy();
        client.#teardown(error);
      },
      onFirstResponse: (client, fn) => {
        client.#firstResponse = fn;
      },
    } satisfies ClientInternals);
  }

  /** The address this client connected to. */
  readonly url: string;
  readonly #socket: ClientSocket;
  readonly #transport: Transport;
  readonly #options: ResolvedConnectOptions;
  readonly #pending = new PendingRequests();
  readonly #calls = new CallTable(
    (message, text) => (text === undefined ? this.#transport.send(message) : this.#transport.sendText(text)),
    (err) => this.#report(err),
  );
  readonly #remote: RemoteState;
  readonly #statusListeners = new Set<() => void>();
  #stale = false;
  #firstResponse: (() => void) | null = null;
  // Whether koa-juggler.v1 is spoken: the server selected the subprotocol and
  // did not then speak plain juggler on it (see #fallBack).
  #extension: boolean;
  #welcome: WelcomeMessage | null = null;
  // Messages after `welcome`, held until the task after connect() resolved (null: not holding).
  #held: ServerMessage[] | null = null;
  #status: ClientStatus = 'open';
  #error: Error | null = null;
  #closeTimer: ReturnType<typeof setTimeout> | null = null;
  readonly #closed: Promise<void>;
  #resolveClosed!: () => void;
  readonly #ready: Promise<void>;
  #settleReady: ((err?: Error) => void) | null = null;
  readonly #onReady: ((client: Client<Api>) => void) | undefined;

  /**
   * Not for applications: use `connect()`.
   * @param onReady called once the connection is ready (at once on a plain
   *   connection, on `welcome` on an extension one) and before any other
   *   message is handled, so that an owner (the reconnecting client) misses nothing
   * @internal
   */
  constructor(url: string, socket: ClientSocket, options: ResolvedConnectOptions, onReady?: (client: Client<Api>) => void) {
    this.url = url;
    this.#socket = socket;
    this.#options = options;
    this.#onReady = onReady;
    this.#remote = new RemoteState((listener, state, diff) => this.#call(listener, state, diff), options.snapshots);
    this.#extension = socket.protocol === EXTENSION_PROTOCOL;
    this.#closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    this.#ready = new Promise<void>((resolve, reject) => {
      this.#settleReady = (err) => {
        this.#settleReady = null;
        if (err === undefined) resolve();
        else reject(err);
      };
    });
    // Nobody may be waiting (a plain client), and a failed start is reported through connect().
    this.#ready.catch(() => {});
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
    if (!this.#extension) {
      this.#settleReady!();
      onReady?.(this);
      // Handle messages from the next task on (the socket holds them until
      // then), so that listeners registered right after `await connect()`
      // see the first state too.
      setTimeout(() => socket.listen(this.#handlers), 0);
      return;
    }
    const { session, version, state } = options.resume;
    // Resuming by version: diffs continue from the value the caller had at that version.
    if (version !== null) this.#remote.resume(state, version);
    const hello: Record<string, unknown> = { type: 'hello' };
    if (session !== null) hello.session = session;
    if (version !== null) hello.version = version;
    this.#transport.send(hello);
    this.#held = [];
    socket.listen(this.#handlers);
  }

  /** The remote state: `null` until the first diff, then updated in place by each diff, or replaced by a new snapshot with `snapshots: true` (see the class notes). */
  get state(): StateOf<Api> | null {
    return this.#remote.value as StateOf<Api> | null;
  }

  /** `'open'`, `'closing'` (close started, pending requests already failed) or `'closed'`. */
  get status(): ClientStatus {
    return this.#status;
  }

  /**
   * Whether the server said that the state it sends may be behind (an
   * extension `status` message: a cluster node that lost Redis). Diffs
   * still apply as usual. Always false on a plain connection.
   */
  get stale(): boolean {
    return this.#stale;
  }

  /** Whether `state` is kept as immutable snapshots (the `snapshots` option). */
  get snapshots(): boolean {
    return this.#options.snapshots;
  }

  /** Resolves once the connection is closed, however that happened. Never rejects. */
  get closed(): Promise<void> {
    return this.#closed;
  }

  /**
   * Why the connection ended, once it is closing or closed: the error its
   * pending requests failed with (ConnectionClosedError for a close by
   * either side, ConnectionLostError, ProtocolError, or InternalError).
   * `null` while open.
   */
  get error(): Error | null {
    return this.#error;
  }

  /**
   * Whether this connection speaks the koa-juggler.v1 extension: the server
   * selected it and answered `hello` with `welcome` (a server that selects
   * it and then speaks plain juggler makes this false).
   */
  get extension(): boolean {
    return this.#extension;
  }

  /**
   * The session token from the server's `welcome` (renewed in each one):
   * pass it as `connect(url, { session })` to resume the session later.
   * `null` on a plain connection.
   */
  get session(): string | null {
    return this.#welcome?.session ?? null;
  }

  /** Whether the server resumed the session given to `connect()` (false for a new session and on a plain connection). */
  get resumed(): boolean {
    return this.#welcome?.resumed ?? false;
  }

  /**
   * The version of `state`: of the last state message applied, or the one
   * this client resumed from while nothing newer has arrived. Pass it with
   * a copy of `state` as `connect(url, { session, version, state })` to
   * come back with only what changed since. `null` on a plain connection
   * and before the first state.
   */
  get version(): string | null {
    return this.#remote.version;
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
  onChange(listener: ChangeListener<StateOf<Api>>): () => void {
    if (typeof listener !== 'function') throw new InvalidArgumentError('listener', 'a function', listener);
    if (this.#status === 'closed') return () => {};
    return this.#remote.listen(listener as ChangeListener);
  }

  /**
   * Calls `listener()` after `stale` or `status` changed (it reads them
   * itself), e.g. for a UI binding such as `koa-juggler/react`. A listener
   * that throws is reported to `options.onError`.
   * @returns a function that unregisters the listener
   * @throws InvalidArgumentError when `listener` is not a function
   */
  onStatusChange(listener: () => void): () => void {
    return addListener(this.#statusListeners, listener, this.#status === 'closed');
  }

  /**
   * Sends a request and resolves with the server's answer. Requests are
   * pipelined: many may be in flight, and each settles on its own answer.
   *
   * @param name the request name (`''` makes the server echo `data`)
   * @param data any JSON value; `undefined` is sent as `null`
   * @param options `timeout`: reject with TimeoutError after this many ms
   *   (nothing is sent to the server; a late answer is ignored); `key`: an
   *   idempotency key (extension connections; see {@link RequestOptions.key}).
   *   This client does not re-send anything by itself: `reconnect()` does.
   * @throws (rejects) JugglerError with the server's `data` when it answered with a failure;
   *   ConnectionClosedError, ConnectionLostError, ProtocolError or InternalError when the
   *   connection ends first or has ended; TimeoutError; InvalidArgumentError
   *   for a bad `name`, `data` that JSON cannot carry, or bad options
   */
  send<N extends RequestName<Api>>(name: N, data?: RequestData<Api, N>, options?: RequestOptions): Promise<RequestResult<Api, N>>;
  send(name: string, data: unknown = null, options?: RequestOptions): Promise<unknown> {
    let resolved: ReturnType<typeof resolveSendArguments>;
    try {
      resolved = resolveSendArguments(name, options);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#request(name, data as JsonValue, resolved.key ?? null, resolved.timeout).answer;
  }

  #request(name: string, data: JsonValue, key: string | null, timeout: number | null): { id: number; answer: Promise<JsonValue> } {
    if (this.#status !== 'open') return { id: -1, answer: Promise.reject(this.#afterCloseError()) };
    const id = this.#pending.nextId();
    const message: Record<string, unknown> = { type: 'request', id, name, data };
    // A plain server does not know `key` (Python's may reject unknown fields): only the extension gets it.
    if (key !== null && this.#extension) message.key = key;
    let text: string;
    try {
      text = encodeJson(message);
    } catch (err) {
      return { id: -1, answer: Promise.reject(new InvalidArgumentError('data', `a JSON value (${(err as Error).message})`)) };
    }
    const answer = this.#pending.add(id, name, timeout);
    this.#transport.sendText(text);
    return { id, answer };
  }

  /**
   * Sends a one-way message to the server (its `onNotify`); nothing comes
   * back. Resolves once it is handed to the socket. With
   * `parallelRequests` off the server handles it in order with requests.
   * @throws (rejects) ExtensionUnavailableError on a plain connection;
   *   the connection error once it has ended; InvalidArgumentError for a
   *   bad `name` or `data` that JSON cannot carry
   */
  notify<N extends ClientNotifyName<Api>>(name: N, data?: ClientNotifyData<Api, N>): Promise<void>;
  notify(name: string, data: JsonValue = null): Promise<void> {
    if (typeof name !== 'string') return Promise.reject(new InvalidArgumentError('name', 'a string', name));
    if (this.#status !== 'open') return Promise.reject(this.#afterCloseError());
    if (!this.#extension) return Promise.reject(new ExtensionUnavailableError('notify()'));
    let text: string;
    try {
      text = encodeJson({ type: 'notify', name, data });
    } catch (err) {
      return Promise.reject(new InvalidArgumentError('data', `a JSON value (${(err as Error).message})`));
    }
    this.#transport.sendText(text);
    return Promise.resolve();
  }

  /**
   * Asks the server to show this connection only part of the state
   * (docs/views.md): the server's `onView` grants the paths it allows.
   * The state changes to the granted view (one diff) before the promise
   * resolves. On refusal the view and the state stay as they were.
   * @param paths paths of object keys (strings)
   * @returns the paths granted, canonical (`[[]]`: everything)
   * @throws (rejects) JugglerError with what `onView` threw (or when the
   *   server has no `onView`); ExtensionUnavailableError on a plain
   *   connection; the connection error once it has ended;
   *   InvalidArgumentError naming a bad path step (an array index)
   * @example
   * const granted = await client.setView([['sites', 'north'], ['alarms']]);
   */
  setView(paths: ViewPaths): Promise<string[][]> {
    let canonical: string[][] | null;
    try {
      canonical = canonicalView(paths, 'paths');
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.#status !== 'open') return Promise.reject(this.#afterCloseError());
    if (!this.#extension) return Promise.reject(new ExtensionUnavailableError('setView()'));
    const id = this.#pending.nextId();
    const answer = this.#pending.add(id, 'view', null);
    this.#transport.sendText(encodeJson({ type: 'view', id, paths: canonical ?? [[]] }));
    return answer as Promise<string[][]>;
  }

  /**
   * Opens a streaming call (the server's `onStream`): returns at once a
   * {@link ClientCall}, an async iterable of what the server sends, with
   * `on('data' | 'error' | 'end')`, `send()`, `end()` and `cancel()`. All
   * call shapes are this one: unary (`data` in, one item out), server
   * streaming, client streaming (`send()` then `end()`), bidirectional.
   * Calls share the id space of requests, run beside them, and are not
   * resumed after a reconnect: a lost connection fails them.
   *
   * @param name the call name, as the server's `onStream` sees it
   * @param data the call's opening argument (any JSON value)
   * @throws ExtensionUnavailableError on a plain connection; the
   *   connection error once it has ended; InvalidArgumentError for a bad
   *   `name` or `data` that JSON cannot carry (thrown, not rejected: no
   *   call exists then)
   *
   * @example
   * // unary
   * const [answer] = await Array.fromAsync(client.stream('lookup', { id: 7 }));
   *
   * // server streaming, reading slowly: the server waits for credit
   * for await (const event of client.stream('tail', { from: 0 })) await handle(event);
   *
   * // client streaming
   * const upload = client.stream('store', { name: 'log.txt' });
   * for (const chunk of chunks) await upload.send(chunk);
   * upload.end();
   * for await (const receipt of upload) console.log(receipt);
   *
   * // bidirectional, with events
   * const chat = client.stream('chat', null);
   * chat.on('data', (msg) => show(msg));
   * chat.on('error', (err) => console.error(err));
   * await chat.send('hi');
   * chat.cancel();
   */
  stream<N extends StreamName<Api>>(name: N, data?: StreamData<Api, N>): ClientCall<StreamItem<Api, N>, StreamClientItem<Api, N>>;
  stream(name: string, data: unknown = null): ClientCall<unknown, unknown> {
    if (typeof name !== 'string') throw new InvalidArgumentError('name', 'a string', name);
    if (this.#status !== 'open') throw this.#afterCloseError();
    if (!this.#extension) throw new ExtensionUnavailableError('stream()');
    const id = this.#pending.nextId();
    let text: string;
    try {
      text = encodeJson({ type: 'stream-open', id, name, data });
    } catch (err) {
      throw new InvalidArgumentError('data', `a JSON value (${(err as Error).message})`);
    }
    const call = this.#calls.open(id, name);
    this.#transport.sendText(text);
    return call;
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
        this.#fault(err);
      }
    },
    binary: () => {
      this.#fault(new ProtocolError('binary frame from the server (juggler sends text only)', { closeCode: CLOSE_UNSUPPORTED_DATA }));
    },
    invalid: (err) => {
      // The socket is already closing with err.closeCode; only record why.
      if (this.#status !== 'open') return;
      this.#error = err;
      this.#status = 'closing';
      this.#transport.close();
      this.#failPending(err);
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
      message = parseServerMessage(text, this.#extension, this.#options.maxJsonDepth);
    } catch (err) {
      this.#fault(err);
      return;
    }
    if (this.#extension && this.#welcome === null) {
      if (message.type !== 'welcome') {
        this.#fallBack(text, message.type);
        return;
      }
      this.#onWelcome(message);
      return;
    }
    if (this.#held !== null) this.#held.push(message);
    else this.#dispatch(message);
  }

  #onWelcome(welcome: WelcomeMessage): void {
    this.#welcome = welcome;
    this.#calls.start(welcome.streamWindow);
    // What follows welcome waits for the task after connect() resolved (see onChange).
    setTimeout(() => this.#release(), 0);
    this.#settleReady?.();
    if (this.#onReady) this.#call(this.#onReady, this);
  }

  /**
   * The server selected koa-juggler.v1 but its first message is not
   * `welcome`: it does not speak the extension (ws's default
   * `handleProtocols` echoes the first offer, so a hand-written Node
   * juggler server does this). Go on as a plain connection, starting with
   * that message, read again under plain juggler's rules; a message plain
   * juggler does not know either is the server's fault.
   */
  #fallBack(text: string, type: string): void {
    let message: ServerMessage;
    try {
      message = parseServerMessage(text, false);
    } catch {
      this.#fault(new ProtocolError(`the server's first message must be welcome, not ${type}`));
      return;
    }
    this.#extension = false;
    // What it resumed from names nothing on a plain server, which starts from the whole value.
    this.#remote.reset();
    this.#held = [message];
    // As on any plain connection, nothing is handled before the task after connect() resolved.
    setTimeout(() => this.#release(), 0);
    this.#settleReady?.();
    if (this.#onReady) this.#call(this.#onReady, this);
  }

  #release(): void {
    const held = this.#held;
    this.#held = null;
    if (held === null) return;
    for (const message of held) {
      if (this.#status !== 'open') return;
      try {
        this.#dispatch(message);
      } catch (err) {
        this.#fault(err);
      }
    }
  }

  #dispatch(message: ServerMessage): void {
    switch (message.type) {
      case 'response': {
        const first = this.#firstResponse;
        this.#firstResponse = null;
        if (first !== null) first();
        // An unknown id is the late answer to a request that timed out.
        this.#pending.settle(message.id, message.success, message.data);
        return;
      }
      case 'status':
        if (message.stale === this.#stale) return;
        this.#stale = message.stale;
        if (this.#options.onStatus !== null) this.#call(this.#options.onStatus, message.stale);
        this.#statusChanged();
        return;
      case 'state':
        this.#applyDiff(message.diff, message.version);
        return;
      case 'notify':
        if (this.#options.onNotify !== null) this.#call(this.#options.onNotify, message.name, message.data);
        return;
      case 'welcome':
        this.#fault(new ProtocolError('welcome sent twice'));
        return;
      default:
        try {
          this.#calls.receive(message);
        } catch (err) {
          this.#fault(err);
        }
    }
  }

  #applyDiff(diff: Patch, version: string | undefined): void {
    try {
      this.#remote.apply(diff, this.#extension ? (version ?? null) : null);
    } catch (err) {
      // The patch was undone: state stays the last good value.
      this.#fault(err);
    }
  }

  /** Runs a user callback; what it throws (or a promise it returns rejects with) goes to onError. */
  #call<A extends unknown[]>(fn: (...args: A) => unknown, ...args: A): void {
    runCallback(this.#options.onError, fn, ...args);
  }

  #report(err: unknown): void {
    reportTo(this.#options.onError, err);
  }

  #statusChanged(): void {
    for (const listener of [...this.#statusListeners]) this.#call(listener);
  }

  /**
   * Handling a message failed: fail everything pending and close. Only a
   * ProtocolError is the server's fault (closed with its code, 1002 unless
   * it says otherwise); anything else that throws here is a bug of ours,
   * closed with 1011 as an InternalError, which `reconnect()` retries.
   */
  #fault(err: unknown): void {
    if (this.#status !== 'open') return;
    const error =
      err instanceof ProtocolError
        ? err
        : new InternalError(`internal error in the client: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    this.#startClose(error, error.closeCode, error.message);
  }

  #startClose(error: Error, code: number, reason: string): void {
    this.#error = error;
    this.#status = 'closing';
    this.#transport.close();
    this.#failPending(error);
    this.#socket.close(code, clampReason(reason));
    this.#armCloseTimer();
  }

  /** Requests, calls and a connect() still waiting for welcome: all fail with `error`. */
  #failPending(error: Error): void {
    this.#held = null;
    this.#pending.failAll(error);
    this.#calls.failAll(error);
    this.#settleReady?.(error);
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
    this.#failPending(this.#error);
    this.#remote.clear();
    this.#firstResponse = null;
    this.#statusChanged();
    this.#statusListeners.clear();
    this.#resolveClosed();
  }

  /** A fresh error for calls made after the end, of the kind that ended it. */
  #afterCloseError(): Error {
    const error = this.#error;
    if (error instanceof ConnectionClosedError) return new ConnectionClosedError(error.closeCode, error.reason);
    if (error instanceof ProtocolError || error instanceof InternalError) return new ConnectionClosedError(error.closeCode, clampReason(error.message));
    return new ConnectionLostError(error?.message ?? 'connection lost', { cause: error });
  }
}
