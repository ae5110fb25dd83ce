/**
 * The reconnecting client: one long-lived object over a succession of
 * connections, with the same `state`, `onChange`, notifications and
 * `send()` throughout, and a retry policy (addresses in turn, backoff with
 * jitter, a budget, fatal codes).
 */
import {
  ConnectError,
  ConnectionClosedError,
  ConnectionLostError,
  ExtensionUnavailableError,
  GaveUpError,
  InvalidArgumentError,
  ProtocolError,
} from '../errors.js';
import type { JsonValue } from '../json.js';
import type { Patch } from '../state/patch.js';
import { ASYNC_DISPOSE, type ChangeListener, type Client, type ClientStatus } from './client.js';
import { openClient, type Platform } from './connect.js';
import {
  checkAuth,
  resolveReconnectOptions,
  resolveUrl,
  type BackoffOptions,
  type BasicAuth,
  type ReconnectOptions,
  type RequestOptions,
  type ResolvedReconnectOptions,
} from './options.js';

/**
 * The delay before retry round `round` (0 for the first): `initial`
 * doubled each round up to `max`, then drawn uniformly from
 * `[d × (1 − jitter), d]`.
 */
export function backoffDelay(backoff: Required<BackoffOptions>, round: number, random: () => number = Math.random): number {
  const d = Math.min(backoff.max, backoff.initial * 2 ** Math.min(round, 52));
  return d * (1 - backoff.jitter * random());
}

/**
 * Validates the arguments of `reconnect()` and starts a reconnecting client.
 * @throws InvalidArgumentError naming the bad argument or option
 */
export function reconnectWith(platform: Platform, addresses: string | readonly string[], options?: ReconnectOptions): ReconnectingClient {
  const list = typeof addresses === 'string' ? [addresses] : addresses;
  if (!Array.isArray(list) || list.length === 0) {
    throw new InvalidArgumentError('addresses', 'a ws: URL or a non-empty array of them', addresses);
  }
  const urls = list.map((url: unknown, i) => resolveUrl(url, platform, `addresses[${i}]`));
  return new ReconnectingClient(platform, urls, resolveReconnectOptions(options, platform));
}

/**
 * A client that keeps itself connected. Create it with `reconnect()`.
 *
 * Each round tries the addresses in order, the first that opens wins.
 * Between rounds, and after a connection ends, it waits the backoff delay
 * (the doubling restarts after each successful connection). With a
 * `budget`, it gives up once that long has passed without a connection.
 * A fatal close code, an HTTP 401 or 403 on the handshake (Node; a browser
 * cannot see it and stops at the budget) or invalid credentials stop it at
 * once. Giving up calls `onGiveUp(err)` with a GaveUpError, then `closed`
 * resolves and `error` holds that GaveUpError.
 *
 * `state` restarts at `null` on every new connection (with an `onChange`
 * whose diff replaces the root by `null`) before the new server's first
 * diff arrives, so it is never a mix of two servers' values; while
 * disconnected it keeps the last value it had. Like `Client.state` it is
 * updated in place.
 *
 * `send()` goes to the current connection. Requests in flight when it
 * drops fail with that connection's error and are not re-sent; while no
 * connection is open `send()` rejects at once with ConnectionLostError.
 */
export class ReconnectingClient {
  /** The addresses, in the order they are tried. */
  readonly addresses: readonly string[];
  readonly #platform: Platform;
  readonly #options: ResolvedReconnectOptions;
  readonly #listeners = new Set<ChangeListener>();
  #status: ClientStatus = 'open';
  #client: Client | null = null;
  #state: JsonValue = null;
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
  get state(): JsonValue {
    return this.#state;
  }

  /** `'open'` while it runs (connected or not), `'closing'`, then `'closed'` after `close()` or giving up. */
  get status(): ClientStatus {
    return this.#status;
  }

  /** Whether a connection is open now. */
  get connected(): boolean {
    return this.#client !== null && this.#client.status === 'open';
  }

  /** The address of the open connection, or null. */
  get url(): string | null {
    return this.connected ? this.#client!.url : null;
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
   * connections; a reset to `null` on a new connection comes with the diff
   * `[{ op: 'replace', path: '', value: null }]`.
   * @returns a function that unregisters the listener
   * @throws InvalidArgumentError when `listener` is not a function
   */
  onChange(listener: ChangeListener): () => void {
    if (typeof listener !== 'function') throw new InvalidArgumentError('listener', 'a function', listener);
    if (this.#status === 'closed') return () => {};
    const entry: ChangeListener = (state, diff) => listener(state, diff);
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  /**
   * Sends a request on the current connection; see `Client.send()`.
   * @throws (rejects) as `Client.send()`; ConnectionLostError at once when
   *   no connection is open (its `cause` is the last connection error);
   *   ConnectionClosedError(1000) after `close()`; ConnectionLostError
   *   whose `cause` is the GaveUpError after giving up
   */
  send(name: string, data: JsonValue = null, options?: RequestOptions): Promise<JsonValue> {
    if (this.#status !== 'open') {
      if (this.#error !== null) return Promise.reject(new ConnectionLostError(`not connected: ${this.#error.message}`, { cause: this.#error }));
      return Promise.reject(new ConnectionClosedError(1000, 'closed by the client'));
    }
    const client = this.#client;
    if (client === null || client.status !== 'open') {
      return Promise.reject(new ConnectionLostError('not connected (reconnecting)', { cause: this.#lastError ?? undefined }));
    }
    return client.send(name, data, options);
  }

  /** Needs the koa-juggler.v1 extension, not negotiated yet. @throws (rejects) ExtensionUnavailableError */
  notify(name: string, data: JsonValue = null): Promise<void> {
    void name;
    void data;
    return Promise.reject(new ExtensionUnavailableError('notify()'));
  }

  /** Needs the koa-juggler.v1 extension, not negotiated yet. @throws ExtensionUnavailableError */
  stream(name: string, data: JsonValue = null): never {
    void name;
    void data;
    throw new ExtensionUnavailableError('stream()');
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
    this.#attempt?.abort();
    this.#wake?.();
    this.#client?.close();
  }

  async #run(): Promise<void> {
    const { backoff, budget } = this.#options;
    let deadline = budget === null ? null : Date.now() + budget;
    let round = 0;
    for (;;) {
      for (const url of this.addresses) {
        if (this.#status !== 'open') return;
        if (deadline !== null && Date.now() >= deadline) return this.#giveUpOnBudget();
        const client = await this.#connect(url, deadline);
        if (client === null) continue;
        round = 0;
        await client.closed;
        if (this.#status !== 'open') return;
        const err = client.error ?? new ConnectionLostError();
        this.#lastError = err;
        this.#emit(this.#options.onDisconnected, err);
        const fatal = this.#fatal(err);
        if (fatal !== null) return this.#giveUp(fatal, err);
        deadline = budget === null ? null : Date.now() + budget;
        break;
      }
      if (this.#status !== 'open') return;
      let delay = backoffDelay(backoff, round++);
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
    try {
      const auth = await this.#credentials(controller.signal);
      const client = await openClient(this.#platform, url, { ...o.connect, auth, signal: controller.signal, connectTimeout: limit }, (c) =>
        this.#adopt(c),
      );
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

  async #credentials(signal: AbortSignal): Promise<BasicAuth | null> {
    const source = this.#options.auth;
    if (typeof source !== 'function') return source;
    const aborted = new Promise<never>((_, reject) => {
      const fail = () => reject(signal.reason instanceof Error ? signal.reason : new ConnectError('', 'aborted', 'aborted'));
      if (signal.aborted) fail();
      else signal.addEventListener('abort', fail, { once: true });
    });
    aborted.catch(() => {});
    const got = await Promise.race([Promise.resolve().then(source), aborted]);
    return got === null || got === undefined ? null : checkAuth(got, 'the value options.auth() returned', this.#platform);
  }

  /** Runs inside the Client constructor, before it handles any message. */
  #adopt(client: Client): void {
    if (this.#status !== 'open') return;
    this.#client = client;
    if (this.#state !== null) {
      this.#state = null;
      this.#fire(null, [{ op: 'replace', path: '', value: null }]);
    }
    client.onChange((state, diff) => {
      if (this.#client !== client) return;
      this.#state = state;
      this.#fire(state, diff);
    });
    this.#emit(this.#options.onConnected, client.url);
  }

  /** Why `err` must not be retried, or null. */
  #fatal(err: Error): string | null {
    const codes = this.#options.fatalCloseCodes;
    if (err instanceof InvalidArgumentError) return err.message;
    if (err instanceof ConnectError && (err.status === 401 || err.status === 403)) {
      return `the server refused the handshake with HTTP ${err.status} (${err.status === 401 ? 'credentials missing or wrong' : 'forbidden'})`;
    }
    if (err instanceof ConnectionClosedError && codes.has(err.closeCode)) {
      return `the server closed the connection with ${err.closeCode}${err.reason ? ` (${err.reason})` : ''}, a fatal close code`;
    }
    if (err instanceof ProtocolError && codes.has(err.closeCode)) {
      return `the server sent invalid data (${err.message}); the client closed with ${err.closeCode}, a fatal close code`;
    }
    return null;
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
    this.#listeners.clear();
  }

  #fire(state: JsonValue, diff: Patch): void {
    for (const listener of [...this.#listeners]) this.#emit(listener, state, diff);
  }

  /** Runs a user callback, unless stopped by `close()`; what it throws goes to onError. */
  #emit<A extends unknown[]>(fn: ((...args: A) => unknown) | null, ...args: A): void {
    if (fn === null || (this.#status !== 'open' && this.#error === null)) return;
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
      this.#options.connect.onError(err);
    } catch {
      // An onError that throws has nowhere left to report to.
    }
  }
}
