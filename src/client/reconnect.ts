/**
 * The reconnecting client: one long-lived object over a succession of
 * connections, with the same `state`, `onChange`, notifications and
 * `send()` throughout, and a retry policy (addresses in turn, backoff with
 * jitter, a budget, fatal codes). With koa-juggler.v1 it resumes its
 * session and state by version, and re-sends keyed requests cut by a drop.
 */
import { ConnectError, ConnectionClosedError, ConnectionLostError, GaveUpError, InvalidArgumentError } from '../errors.js';
import type { JsonValue } from '../json.js';
import type { ApiMap, ClientNotifyData, ClientNotifyName, RequestData, RequestName, RequestResult, StateOf, StreamClientItem, StreamData, StreamItem, StreamName, UntypedApi } from '../protocol/api-map.js';
import type { Patch } from '../state/patch.js';
import { canonicalView, type ViewPaths } from '../state/view-paths.js';
import { ASYNC_DISPOSE, CLIENT_INTERNALS, type ChangeListener, type Client, type ClientStatus } from './client.js';
import type { ClientCall } from './client-call.js';
import { openClient, type Platform } from './connect.js';
import { LiveRequests } from './live-requests.js';
import {
  resolveReconnectOptions,
  resolveSendArguments,
  resolveUrl,
  type ReconnectOptions,
  type RequestOptions,
  type ResolvedReconnectOptions,
  type ResumeFrom,
} from './options.js';
import { newRequestKey } from './request-key.js';
import { attemptCredentials, backoffDelay, elsewhereDelay, fatalReason, goesElsewhere } from './retry-policy.js';
import { addListener, reportTo, runCallback } from './run-callback.js';

export { backoffDelay } from './retry-policy.js';

/**
 * How long a new connection may stay without a `state` message before the
 * client takes it that none is coming (a server whose state is null sends
 * none), unless a response says so sooner.
 */
export const STATE_WAIT = 1000;

/** Where a reconnecting client is: before its first connection, connected, between connections, or stopped. */
export type LinkStatus = 'connecting' | 'connected' | 'reconnecting' | 'closed';

/**
 * Validates the arguments of `reconnect()` and starts a reconnecting client.
 * @throws InvalidArgumentError naming the bad argument or option
 */
export function reconnectWith<Api extends ApiMap = UntypedApi>(platform: Platform, addresses: string | readonly string[], options?: ReconnectOptions<Api>): ReconnectingClient<Api> {
  const list = typeof addresses === 'string' ? [addresses] : addresses;
  if (!Array.isArray(list) || list.length === 0) {
    throw new InvalidArgumentError('addresses', 'a ws: URL or a non-empty array of them', addresses);
  }
  const urls = list.map((url: unknown, i) => resolveUrl(url, platform, `addresses[${i}]`));
  return new ReconnectingClient<Api>(platform, urls, resolveReconnectOptions(options, platform));
}

/**
 * A client that keeps itself connected. Create it with `reconnect()`.
 *
 * Each round tries the addresses in order, the first that opens wins.
 * Between rounds, and after a connection ends, it waits the backoff delay
 * (the doubling restarts after each successful connection). A server
 * that closes with 1001 (going away) or 1012 (restarting, a drain) sends
 * it to the next address at once, after a short jitter (up to
 * `backoff.initial × backoff.jitter`), not the backoff. With a
 * `budget`, it gives up once that long has passed without a connection.
 * A fatal close code, an HTTP 401 or 403 on the handshake (Node; a browser
 * cannot see it and stops at the budget) or invalid credentials stop it at
 * once. Giving up calls `onGiveUp(err)` with a GaveUpError, then `closed`
 * resolves and `error` holds that GaveUpError.
 *
 * State across connections is never a mix of two values and never flashes
 * `null`: from a disconnect until the new connection's first `state`
 * message, `state` keeps the last value and `stale` is true; then `state`
 * switches to the server's value in one `onChange` with that message's
 * diff (the whole value, or on a koa-juggler.v1 connection that resumed
 * by version, the diff from the version it presented). A server whose
 * state is `null` sends no state: after the connection's first response,
 * or 1 s (`STATE_WAIT`) after it opened, `state` becomes what the
 * connection holds (`null`, or the resumed value when the server found
 * the version current) and `stale` false. Like `Client.state` it is
 * updated in place, or as snapshots with `snapshots: true`.
 *
 * `send()` goes to the current connection; while none is open it rejects
 * at once with ConnectionLostError. Every request gets a random
 * idempotency key (unless `send()` passes `key: null` or `autoKey` is
 * false). A keyed request in flight when the link drops is re-sent (same
 * key, new id) once a new connection's `welcome` says the session was
 * resumed, so the server runs it once and the caller gets its result;
 * without a key, or when the session was not resumed (a plain server, a
 * server restart, an expired session), it fails with the error of the
 * connection it was on. A `timeout` counts across reconnects. Stream
 * calls are not resumed: a drop fails them with the connection error.
 *
 * @example
 * const live = reconnect('ws://127.0.0.1:8080/ws');
 * // Survives a network blip: re-sent after the session resumes, run once by the server.
 * const receipt = await live.send('pay', { order: 7 }, { timeout: 30_000 });
 * // Not worth re-sending: no key.
 * await live.send('ping', null, { key: null });
 * console.log(live.session, live.version); // what it resumes from on the next reconnect
 *
 * Typed: `reconnect<Api>()` gives a `ReconnectingClient<Api>` (README, "Types").
 */
export class ReconnectingClient<Api extends ApiMap = UntypedApi> {
  /** The addresses, in the order they are tried. */
  readonly addresses: readonly string[];
  readonly #platform: Platform;
  readonly #options: ResolvedReconnectOptions;
  readonly #listeners = new Set<ChangeListener>();
  #status: ClientStatus = 'open';
  #client: Client | null = null;
  #state: JsonValue = null;
  // The version of #state (koa-juggler.v1), or null when it has none (plain, or reset).
  #version: string | null = null;
  #session: string | null = null;
  // The current connection has not sent its first state yet: the next one replaces `state` whole.
  #awaiting = false;
  #waitTimer: ReturnType<typeof setTimeout> | null = null;
  // From a disconnect until the next connection's first state.
  #behind = false;
  #lastStale = false;
  #everConnected = false;
  readonly #statusListeners = new Set<() => void>();
  // The view asked for with setView(), asked again on each new session; null: none asked.
  #view: string[][] | null = null;
  #attempts = 0;
  readonly #requests = new LiveRequests(() => this.#status === 'open');
  #error: Error | null = null;
  #lastError: Error | null = null;
  #attempt: AbortController | null = null;
  #wake: (() => void) | null = null;
  readonly #closed: Promise<void>;

  /** Not for applications: use `reconnect()`. @internal */
  constructor(platform: Platform, addresses: readonly string[], options: ResolvedReconnectOptions) {
    this.#platform = platform;
    this.addresses = Object.freeze([...addresses]);
    this.#options = options;
    this.#closed = this.#run().then(
      () => this.#finish(),
      (err: unknown) => {
        this.#report(err);
        this.#finish();
      },
    );
  }

  /** The remote state of the current (or last) connection; `null` until its first diff. Updated in place. */
  get state(): StateOf<Api> | null {
    return this.#state as StateOf<Api> | null;
  }

  /** `'open'` while it runs (connected or not), `'closing'`, then `'closed'` after `close()` or giving up. */
  get status(): ClientStatus {
    return this.#status;
  }

  /**
   * Whether `state` may be behind the server's: from a disconnect until the
   * new connection's first state (see the class notes), and while the
   * server says so (`Client.stale`).
   */
  get stale(): boolean {
    return this.#behind || (this.connected && this.#client!.stale);
  }

  /** Whether `state` is kept as immutable snapshots (the `snapshots` option). */
  get snapshots(): boolean {
    return this.#options.connect.snapshots;
  }

  /**
   * `'connecting'` before the first connection, `'connected'`,
   * `'reconnecting'` between connections, `'closed'` once stopped.
   */
  get linkStatus(): LinkStatus {
    if (this.#status !== 'open') return 'closed';
    if (this.connected) return 'connected';
    return this.#everConnected ? 'reconnecting' : 'connecting';
  }

  /** Whether a connection is open now. */
  get connected(): boolean {
    return this.#client !== null && this.#client.status === 'open';
  }

  /** The address of the open connection, or null. */
  get url(): string | null {
    return this.connected ? this.#client!.url : null;
  }

  /** Whether the open connection negotiated koa-juggler.v1 (false while disconnected). */
  get extension(): boolean {
    return this.connected && this.#client!.extension;
  }

  /** The session token of the latest koa-juggler.v1 connection (kept while disconnected, presented on the next one), or null. */
  get session(): string | null {
    return this.#session;
  }

  /** The version of `state` (koa-juggler.v1), presented on the next connection to resume by version; null when it has none. */
  get version(): string | null {
    return this.#version;
  }

  /** Whether the open connection resumed the previous session (false while disconnected). */
  get resumed(): boolean {
    return this.connected && this.#client!.resumed;
  }

  /** Why it stopped: the GaveUpError it gave up with; null while running or after `close()`. */
  get error(): Error | null {
    return this.#error;
  }

  /** Resolves once it has stopped (after `close()` or giving up) and its last connection is closed. Never rejects. */
  get closed(): Promise<void> {
    return this.#closed;
  }

  /**
   * Calls `listener(state, diff)` after each change of `state`, across
   * connections; when a new connection brings no state (see the class
   * notes) and `state` becomes `null`, the diff is
   * `[{ op: 'replace', path: '', value: null }]`.
   * @returns a function that unregisters the listener
   * @throws InvalidArgumentError when `listener` is not a function
   */
  onChange(listener: ChangeListener<StateOf<Api>>): () => void {
    return addListener(this.#listeners, listener as ChangeListener, this.#status === 'closed');
  }

  /**
   * Calls `listener()` after `linkStatus` or `stale` changed (it reads
   * them itself), e.g. for a UI binding such as `koa-juggler/react`.
   * @returns a function that unregisters the listener
   * @throws InvalidArgumentError when `listener` is not a function
   */
  onStatusChange(listener: () => void): () => void {
    return addListener(this.#statusListeners, listener, this.#status === 'closed');
  }

  /**
   * Sends a request on the current connection; see `Client.send()`. It
   * gets a random `key` unless `options.key` is given (`null`: none) or
   * `autoKey` is false; a keyed request cut by a drop is re-sent when the
   * session is resumed (see the class notes). `timeout` counts across
   * reconnects.
   * @throws (rejects) as `Client.send()`; ConnectionLostError at once when
   *   no connection is open (its `cause` is the last connection error);
   *   ConnectionClosedError(1000) after `close()`; ConnectionLostError
   *   whose `cause` is the GaveUpError after giving up
   */
  send<N extends RequestName<Api>>(name: N, data?: RequestData<Api, N>, options?: RequestOptions): Promise<RequestResult<Api, N>>;
  send(name: string, data: unknown = null, options?: RequestOptions): Promise<unknown> {
    let resolved: ReturnType<typeof resolveSendArguments>;
    try {
      resolved = resolveSendArguments(name, options);
    } catch (err) {
      return Promise.reject(err);
    }
    let client: Client;
    try {
      client = this.#current();
    } catch (err) {
      return Promise.reject(err);
    }
    const key = resolved.key !== undefined ? resolved.key : this.#options.autoKey ? newRequestKey() : null;
    return this.#requests.send(client, name, data as JsonValue, key, resolved.timeout);
  }

  /**
   * Sends a one-way message on the current connection; see `Client.notify()`.
   * @throws (rejects) ExtensionUnavailableError when the connection is
   *   plain; ConnectionLostError while disconnected; as `send()` after
   *   `close()` or giving up
   */
  notify<N extends ClientNotifyName<Api>>(name: N, data?: ClientNotifyData<Api, N>): Promise<void>;
  notify(name: string, data: JsonValue = null): Promise<void> {
    try {
      return this.#current().notify(name, data);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Asks for a view on the current connection; see `Client.setView()`.
   * The server keeps a granted view with the session; once one was
   * granted, when a reconnect
   * gets a new session, this client asks for the view again (a refusal
   * then goes to `onError`).
   * @throws (rejects) as `Client.setView()`; ConnectionLostError while disconnected
   */
  setView(paths: ViewPaths): Promise<string[][]> {
    try {
      canonicalView(paths, 'paths');
      return this.#current()
        .setView(paths)
        .then((granted) => (this.#view = granted));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Opens a streaming call on the current connection; see `Client.stream()`.
   * A call is not resumed: when its connection drops it fails with that
   * connection's error, and a new call must be opened after the reconnect.
   * @throws ExtensionUnavailableError when the connection is plain;
   *   ConnectionLostError while disconnected; as `send()` after `close()`
   *   or giving up
   */
  stream<N extends StreamName<Api>>(name: N, data?: StreamData<Api, N>): ClientCall<StreamItem<Api, N>, StreamClientItem<Api, N>>;
  stream(name: string, data: unknown = null): ClientCall<unknown, unknown> {
    return this.#current().stream(name, data as JsonValue);
  }

  /** The open connection. @throws the error a call gets when there is none */
  #current(): Client {
    if (this.#status !== 'open') {
      if (this.#error !== null) throw new ConnectionLostError(`not connected: ${this.#error.message}`, { cause: this.#error });
      throw new ConnectionClosedError(1000, 'closed by the client');
    }
    const client = this.#client;
    if (client === null || client.status !== 'open') {
      throw new ConnectionLostError('not connected (reconnecting)', { cause: this.#lastError ?? undefined });
    }
    return client;
  }

  /**
   * Stops: aborts an attempt in progress, cancels a pending retry, closes
   * the open connection with 1000 (its requests in flight fail with
   * ConnectionClosedError). No callback runs afterwards and no timer is
   * left behind; `closed` resolves once the connection is closed. Safe to
   * call more than once.
   */
  close(): void {
    if (this.#status !== 'open') return;
    this.#stop();
  }

  /** `await using live = reconnect(...)`: closes and waits until closed. */
  async [ASYNC_DISPOSE](): Promise<void> {
    this.close();
    await this.#closed;
  }

  #stop(): void {
    this.#status = 'closing';
    this.#stopWaiting();
    this.#attempt?.abort();
    this.#wake?.();
    this.#client?.close();
    this.#requests.failParked();
  }

  async #run(): Promise<void> {
    const { backoff, budget } = this.#options;
    let deadline = budget === null ? null : Date.now() + budget;
    let round = 0;
    // Where the next round starts: the first address, or the one after a server that sent us away.
    let first = 0;
    for (;;) {
      let elsewhere = false;
      const addresses = this.addresses;
      for (let k = 0; k < addresses.length; k++) {
        const index = (first + k) % addresses.length;
        if (this.#status !== 'open') return;
        if (deadline !== null && Date.now() >= deadline) return this.#giveUpOnBudget();
        const client = await this.#connect(addresses[index]!, deadline);
        if (client === null) continue;
        round = 0;
        await client.closed;
        if (this.#status !== 'open') return;
        const err = client.error ?? new ConnectionLostError();
        this.#lastError = err;
        this.#stopWaiting();
        this.#behind = true;
        this.#statusChanged();
        this.#emit(this.#options.onDisconnected, err);
        const fatal = this.#fatal(err);
        if (fatal !== null) return this.#giveUp(fatal, err);
        deadline = budget === null ? null : Date.now() + budget;
        // 1001 / 1012: that server is going away; the next address now (jittered), not the backoff.
        elsewhere = goesElsewhere(err);
        first = elsewhere ? (index + 1) % addresses.length : 0;
        break;
      }
      if (this.#status !== 'open') return;
      let delay = elsewhere ? elsewhereDelay(backoff) : backoffDelay(backoff, round++);
      if (deadline !== null) delay = Math.min(delay, Math.max(0, deadline - Date.now()));
      await this.#sleep(delay);
    }
  }

  /** One attempt; null when it failed (after giving up, if the failure is fatal). */
  async #connect(url: string, deadline: number | null): Promise<Client | null> {
    const controller = new AbortController();
    this.#attempt = controller;
    const o = this.#options;
    // The budget bounds an attempt too, the call to an `auth` function included.
    const limit = deadline === null ? o.connect.connectTimeout : Math.max(1, Math.min(o.connect.connectTimeout, deadline - Date.now()));
    const timer = setTimeout(() => {
      controller.abort(new ConnectError(url, 'timeout', `no connection to ${url} within ${limit} ms`));
    }, limit);
    this.#attempts += 1;
    this.#emit(o.onAttempt, this.#attempts, url);
    try {
      const auth = await attemptCredentials(o.auth, controller.signal, this.#platform);
      const resume: ResumeFrom = { session: this.#session, version: this.#version, state: this.#version === null ? null : this.#state };
      // The user's onStatus hears this object's `stale`, not each connection's.
      const options = { ...o.connect, onStatus: null, auth, signal: controller.signal, connectTimeout: limit, resume };
      const client = await openClient(this.#platform, url, options, (c) => this.#adopt(c));
      if (this.#status !== 'open') client.close();
      return client;
    } catch (err) {
      if (this.#status !== 'open') return null;
      const error = err instanceof Error ? err : new Error(String(err));
      this.#lastError = error;
      const fatal = this.#fatal(error);
      if (fatal !== null) this.#giveUp(fatal, error);
      return null;
    } finally {
      clearTimeout(timer);
      this.#attempt = null;
    }
  }

  /** Runs when a connection is ready (plain: opened; extension: welcome), before it handles any other message. */
  #adopt(client: Client): void {
    if (this.#status !== 'open') return;
    this.#client = client;
    this.#attempts = 0;
    this.#everConnected = true;
    if (client.extension) this.#session = client.session;
    else this.#version = null;
    this.#awaiting = true;
    this.#waitTimer = setTimeout(() => this.#settle(client), STATE_WAIT);
    CLIENT_INTERNALS.onFirstResponse(client, () => this.#settle(client));
    client.onChange((state, diff) => {
      if (this.#client !== client) return;
      if (this.#awaiting) this.#stopWaiting();
      this.#state = state;
      this.#version = client.version;
      this.#fire(state, diff);
      this.#statusChanged();
    });
    client.onStatusChange(() => {
      if (this.#client === client) this.#statusChanged();
    });
    this.#requests.connected(client);
    // A new session starts in the server's default view: ask for ours again.
    if (this.#view !== null && client.extension && !client.resumed) client.setView(this.#view).catch((err: unknown) => this.#report(err));
    this.#emit(this.#options.onConnected, client.url);
    this.#statusChanged();
  }

  /**
   * No state came first on `client`: take what it holds (null, or the value
   * it resumed from when the server found the version current).
   */
  #settle(client: Client): void {
    if (this.#client !== client || !this.#awaiting) return;
    this.#stopWaiting();
    if (client.state !== this.#state) {
      this.#state = client.state;
      this.#version = client.version;
      this.#fire(this.#state, [{ op: 'replace', path: '', value: this.#state }]);
    }
    this.#statusChanged();
  }

  /** The current connection's first state arrived (or will not come): `state` is the server's again. */
  #stopWaiting(): void {
    this.#awaiting = false;
    this.#behind = false;
    if (this.#waitTimer !== null) clearTimeout(this.#waitTimer);
    this.#waitTimer = null;
  }

  /** Tells the status listeners, and `onStatus` when `stale` changed. */
  #statusChanged(): void {
    const stale = this.stale;
    if (stale !== this.#lastStale) {
      this.#lastStale = stale;
      this.#emit(this.#options.connect.onStatus, stale);
    }
    for (const listener of [...this.#statusListeners]) this.#emit(listener);
  }

  /** Why `err` must not be retried, or null. */
  #fatal(err: Error): string | null {
    return fatalReason(err, this.#options.fatalCloseCodes);
  }

  #giveUpOnBudget(): void {
    const last = this.#lastError ? `; last error: ${this.#lastError.message}` : '';
    this.#giveUp(`no connection within the budget of ${this.#options.budget} ms${last}`, this.#lastError);
  }

  #giveUp(why: string, cause: Error | null): void {
    if (this.#status !== 'open') return;
    const error = new GaveUpError(`gave up reconnecting: ${why}`, { cause: cause ?? undefined });
    this.#error = error;
    this.#stop();
    this.#emit(this.#options.onGiveUp, error);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done(): void {
        clearTimeout(timer);
        self.#wake = null;
        resolve();
      }
      this.#wake = done;
    });
  }

  #finish(): void {
    this.#status = 'closed';
    this.#client = null;
    this.#stopWaiting();
    this.#listeners.clear();
    // The last word for a UI showing the link: it is closed (after close() too, when other callbacks are quiet).
    for (const listener of [...this.#statusListeners]) runCallback(this.#options.connect.onError, listener);
    this.#statusListeners.clear();
  }

  #fire(state: JsonValue, diff: Patch): void {
    for (const listener of [...this.#listeners]) this.#emit(listener, state, diff);
  }

  /** Runs a user callback, unless stopped by `close()`; what it throws goes to onError. */
  #emit<A extends unknown[]>(fn: ((...args: A) => unknown) | null, ...args: A): void {
    if (fn === null || (this.#status !== 'open' && this.#error === null)) return;
    runCallback(this.#options.connect.onError, fn, ...args);
  }

  #report(err: unknown): void {
    reportTo(this.#options.connect.onError, err);
  }
}
