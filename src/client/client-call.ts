/**
 * One streaming call on the client (docs/protocol.md, "Streams"): the
 * object `client.stream()` returns. Reading it, as an async iterable or
 * through `data` / `error` / `end` events, yields what the server sends;
 * `send()` waits for the server's credit; `end()` half-closes; `cancel()`
 * aborts. The call's state, credit and buffer are a {@link StreamCall}
 * (src/protocol/stream-call.ts); this adapter only presents it. Credit
 * goes back to the server only as the application consumes items, so at
 * most one window of items is ever buffered here.
 */
import { InvalidArgumentError } from '../errors.js';
import { encodeJson, type JsonValue } from '../json.js';
import { StreamCall, type StreamLink } from '../protocol/stream-call.js';

/** The events of a {@link ClientCall}. */
export interface ClientCallEvents<Item = JsonValue> {
  /** One item from the server. */
  data: (value: Item) => void;
  /** The call failed: JugglerError with the server's `data`, or the connection error. Not emitted on `cancel()`. */
  error: (err: Error) => void;
  /** The server sent everything (after the last `data`), or the call was cancelled. */
  end: () => void;
}

/** The error `send()` rejects with after `cancel()`. */
function cancelledError(): Error {
  return Object.assign(new Error('call cancelled'), { name: 'AbortError', code: 'ERR_CALL_CANCELLED' });
}

/**
 * Opens the client side of call `id`: its protocol state (what the
 * connection feeds the server's messages to) and the object the
 * application holds. Not exported to users.
 * @param report where errors thrown by event listeners go (`onError`)
 */
export function openClientCall(id: number, name: string, link: StreamLink, report: (err: unknown) => void): { call: ClientCall; core: StreamCall } {
  const core = new StreamCall(id, link, null, {
    endWhenSilent: true,
    overError: () => new Error(`call ${id} (${name}) is over`),
    endedError: () => new Error(`call ${id} (${name}) already ended: send() after end()`),
  });
  return { call: new ClientCall(core, name, report), core };
}


/**
 * A streaming call: unary, server-, client- or bidirectional streaming, all
 * the same shape. Create it with `client.stream(name, data)`.
 *
 * Read it either way (not both at once):
 * - as an async iterable: `for await (const item of call)`; the loop ends
 *   when the server ends, throws JugglerError (the server's `stream-error`
 *   data) or the connection error, and breaking out of it cancels the call;
 * - with events: `call.on('data', cb)` delivers each item as it arrives
 *   (while at least one `data` listener is registered), then `end` or
 *   `error`.
 *
 * Credit is granted to the server as items are consumed (pulled by the
 * iterator, or delivered to `data` listeners), so `buffered` never exceeds
 * the window the server announced in `welcome`.
 *
 * @example
 * // server streaming
 * for await (const row of client.stream('rows', { table: 'jobs' })) render(row);
 *
 * // client streaming: send with back-pressure, then half-close and read the answer
 * const upload = client.stream('sum', null);
 * for (const n of numbers) await upload.send(n);
 * upload.end();
 * for await (const total of upload) console.log(total);
 *
 * // bidirectional, with events
 * const chat = client.stream('chat', { room: 'ops' });
 * chat.on('data', (line) => console.log(line));
 * chat.on('error', (err) => console.error(err));
 * chat.on('end', () => console.log('bye'));
 * await chat.send('hello');
 * chat.cancel(); // the server's call.signal aborts
 */
export class ClientCall<Item = JsonValue, Send = JsonValue> implements AsyncIterable<Item> {
  /** The call id (shared id space with requests). */
  readonly id: number;
  /** The name the call was opened with. */
  readonly name: string;
  readonly #core: StreamCall;
  readonly #report: (err: unknown) => void;
  #pulls: { resolve: (r: IteratorResult<JsonValue>) => void; reject: (err: Error) => void }[] = [];
  readonly #listeners = { data: new Set<ClientCallEvents['data']>(), error: new Set<ClientCallEvents['error']>(), end: new Set<ClientCallEvents['end']>() };
  // Presentation only (the call's state is the core's): what the reader and the listeners have been told.
  #readFinished = false;
  #errorEmitted = false;
  #endEmitted = false;
  #flushScheduled = false;

  /** @internal made by `openClientCall()` for `client.stream()` */
  constructor(core: StreamCall, name: string, report: (err: unknown) => void) {
    this.id = core.id;
    this.name = name;
    this.#core = core;
    this.#report = report;
    core.onRead = () => this.#settleReaders();
  }

  /** Items received and not yet consumed (at most the window). */
  get buffered(): number {
    return this.#core.buffered;
  }

  /** Items `send()` may still send before it waits for the server's credit. */
  get credit(): number {
    return this.#core.credit;
  }

  /** Whether the call is over: both sides ended, or it failed or was cancelled. */
  get done(): boolean {
    return this.#core.over;
  }

  /**
   * Registers an event listener; see {@link ClientCallEvents}. Registering a
   * `data` listener switches the call to event delivery: items buffered so
   * far are delivered on the next microtask, later ones as they arrive. A
   * listener that throws is reported to the client's `onError`.
   * @returns a function that unregisters the listener
   * @throws InvalidArgumentError for an unknown event or a listener that is not a function
   */
  on<E extends keyof ClientCallEvents>(event: E, listener: ClientCallEvents<Item>[E]): () => void;
  on<E extends keyof ClientCallEvents>(event: E, listener: ClientCallEvents[E]): () => void {
    if (event !== 'data' && event !== 'error' && event !== 'end') throw new InvalidArgumentError('event', '"data", "error" or "end"', event);
    if (typeof listener !== 'function') throw new InvalidArgumentError('listener', 'a function', listener);
    // A wrapper, so that the same function registered twice is two registrations.
    const entry = ((...args: never[]) => (listener as (...a: never[]) => void)(...args)) as ClientCallEvents[E];
    const set = this.#listeners[event] as Set<ClientCallEvents[E]>;
    set.add(entry);
    // Late listeners still hear how the call ended (the call may have ended before they were registered).
    if (event === 'data') this.#scheduleFlush();
    else if (event === 'end' && this.#endEmitted) queueMicrotask(() => set.has(entry) && this.#invoke(entry as () => void));
    else if (event === 'error' && this.#errorEmitted) {
      const err = this.#core.remoteError!;
      queueMicrotask(() => set.has(entry) && this.#invoke(entry as (e: Error) => void, err));
    }
    return () => {
      set.delete(entry);
    };
  }

  /**
   * Sends one item to the server. Resolves once it is handed to the socket;
   * waits first while the server grants no credit (its window, then one
   * `stream-credit` per batch it consumes), so a fast producer cannot
   * outrun a slow server.
   * @throws (rejects) InvalidArgumentError when JSON cannot carry `value`;
   *   Error (name `AbortError`) after `cancel()`; Error after `end()`;
   *   JugglerError after the server failed the call; the connection error
   *   when the connection ends first
   */
  async send(value: Send): Promise<void> {
    let text: string;
    try {
      if (value === undefined) throw new TypeError('undefined');
      text = encodeJson({ type: 'stream-data', id: this.id, data: value });
    } catch (err) {
      throw new InvalidArgumentError('value', `a JSON value (${(err as Error).message})`);
    }
    await this.#core.send(value as JsonValue, text);
  }

  /**
   * Half-closes: tells the server this side sends nothing more (after the
   * items of `send()` calls already made). Reading goes on until the
   * server ends. A call that has sent nothing when the server ends (unary,
   * server streaming) is ended for you; one that has sent must call
   * `end()` (or `cancel()`) for the call to be over. Safe to call twice;
   * does nothing once the call is over.
   */
  end(): void {
    this.#core.end();
  }

  /**
   * Aborts the call: sends `stream-error` (the server's `call.signal`
   * aborts and its pending `call.send()` rejects), drops what is buffered,
   * finishes the iterator (no error) and emits `end`, not `error`. Pending
   * `send()` calls reject with an AbortError. Does nothing once the call is over.
   */
  cancel(): void {
    if (this.#core.over) return;
    this.#core.drop();
    this.#core.error('cancelled', cancelledError());
  }

  /** The server's items in order, until its end; a cancelled call just finishes, a failed one throws. */
  [Symbol.asyncIterator](): AsyncIterator<Item> {
    return {
      next: () => this.#next() as Promise<IteratorResult<Item>>,
      return: () => {
        // Leaving a for-await early: the server need not go on producing.
        if (this.#core.remote === 'open') this.cancel();
        this.#readFinished = true;
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  /** Whether nothing more will arrive: the server's half is over, or the call is. */
  get #readOver(): boolean {
    return this.#core.remote !== 'open' || this.#core.over;
  }

  #next(): Promise<IteratorResult<JsonValue>> {
    if (this.#core.buffered > 0) return Promise.resolve({ value: this.#core.take(), done: false });
    if (this.#readFinished) return Promise.resolve({ value: undefined, done: true });
    if (!this.#readOver) return new Promise((resolve, reject) => this.#pulls.push({ resolve, reject }));
    this.#readFinished = true;
    const err = this.#core.remoteError;
    if (err !== null) return Promise.reject(err);
    this.#emitEnd();
    return Promise.resolve({ value: undefined, done: true });
  }

  /** Hands buffered items to whoever consumes: waiting iterator pulls, or data listeners. */
  #deliver(): void {
    const core = this.#core;
    while (core.buffered > 0 && this.#pulls.length > 0) this.#pulls.shift()!.resolve({ value: core.take(), done: false });
    while (core.buffered > 0 && this.#listeners.data.size > 0) {
      const value = core.take();
      for (const listener of [...this.#listeners.data]) this.#invoke(listener, value);
    }
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      this.#settleReaders();
    });
  }

  /**
   * The read side changed: `error` listeners hear a failure at once; what is
   * buffered goes out; once nothing more will come, the readers finish.
   */
  #settleReaders(): void {
    const err = this.#core.remoteError;
    if (err !== null && !this.#errorEmitted) {
      this.#errorEmitted = true;
      for (const listener of [...this.#listeners.error]) this.#invoke(listener, err);
    }
    this.#deliver();
    if (this.#core.buffered > 0 || !this.#readOver) return;
    const pulls = this.#pulls;
    this.#pulls = [];
    if (pulls.length > 0) this.#readFinished = true;
    if (err !== null) {
      for (const pull of pulls) pull.reject(err);
      return;
    }
    for (const pull of pulls) pull.resolve({ value: undefined, done: true });
    this.#emitEnd();
  }

  #emitEnd(): void {
    if (this.#endEmitted) return;
    this.#endEmitted = true;
    for (const listener of [...this.#listeners.end]) this.#invoke(listener);
  }

  #invoke<A extends unknown[]>(listener: (...args: A) => unknown, ...args: A): void {
    try {
      listener(...args);
    } catch (err) {
      this.#report(err);
    }
  }
}
