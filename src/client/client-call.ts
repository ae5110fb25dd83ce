/**
 * One streaming call on the client (PROTOCOL.md, "Streams"): the object
 * `client.stream()` returns. Reading it, as an async iterable or through
 * `data` / `error` / `end` events, yields what the server sends; `send()`
 * waits for the server's credit; `end()` half-closes; `cancel()` aborts.
 * Credit goes back to the server only as the application consumes items,
 * so at most one window of items is ever buffered here.
 */
import { InvalidArgumentError, JugglerError, ProtocolError } from '../errors.js';
import { encodeJson, type JsonValue } from '../json.js';
import { ReceiveWindow, SendCredit } from '../protocol/credit.js';

/** What a call needs from its client. @internal */
export interface CallLink {
  /** Sends one message, given as JSON text. */
  sendText(text: string): void;
  /** The call is over on both sides: forget its id. */
  finished(id: number): void;
  /** An event listener threw: report it (`onError`). */
  report(err: unknown): void;
}

/** The events of a {@link ClientCall}. */
export interface ClientCallEvents {
  /** One item from the server. */
  data: (value: JsonValue) => void;
  /** The call failed: JugglerError with the server's `data`, or the connection error. Not emitted on `cancel()`. */
  error: (err: Error) => void;
  /** The server sent everything (after the last `data`), or the call was cancelled. */
  end: () => void;
}

/** Where the server's half of the call is. */
type ReadState = 'open' | 'ended' | 'failed' | 'cancelled';

/** The error `send()` rejects with after `cancel()`. */
function cancelledError(): Error {
  return Object.assign(new Error('call cancelled'), { name: 'AbortError', code: 'ERR_CALL_CANCELLED' });
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
export class ClientCall implements AsyncIterable<JsonValue> {
  /** The call id (shared id space with requests). */
  readonly id: number;
  /** The name the call was opened with. */
  readonly name: string;
  readonly #link: CallLink;
  readonly #credit = new SendCredit(0);
  #window: ReceiveWindow | null = null;
  readonly #queue: JsonValue[] = [];
  #pulls: { resolve: (r: IteratorResult<JsonValue>) => void; reject: (err: Error) => void }[] = [];
  readonly #listeners = { data: new Set<ClientCallEvents['data']>(), error: new Set<ClientCallEvents['error']>(), end: new Set<ClientCallEvents['end']>() };
  #read: ReadState = 'open';
  #error: Error | null = null;
  // Whether the iterator has thrown the error or reported done.
  #readFinished = false;
  #endEmitted = false;
  #localEnded = false;
  #endSent = false;
  #sending = 0;
  #sentAny = false;
  #over = false;
  // Why sends fail once the call is over (null: it ended normally).
  #failure: Error | null = null;
  #flushScheduled = false;

  /** @internal made by the client */
  constructor(id: number, name: string, link: CallLink) {
    this.id = id;
    this.name = name;
    this.#link = link;
  }

  /** Items received and not yet consumed (at most the window). */
  get buffered(): number {
    return this.#queue.length;
  }

  /** Items `send()` may still send before it waits for the server's credit. */
  get credit(): number {
    return this.#credit.available;
  }

  /** Whether the call is over: both sides ended, or it failed or was cancelled. */
  get done(): boolean {
    return this.#over;
  }

  /**
   * Registers an event listener; see {@link ClientCallEvents}. Registering a
   * `data` listener switches the call to event delivery: items buffered so
   * far are delivered on the next microtask, later ones as they arrive. A
   * listener that throws is reported to the client's `onError`.
   * @returns a function that unregisters the listener
   * @throws InvalidArgumentError for an unknown event or a listener that is not a function
   */
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
    else if (event === 'error' && this.#read === 'failed') {
      const err = this.#error!;
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
  async send(value: JsonValue): Promise<void> {
    let text: string;
    try {
      if (value === undefined) throw new TypeError('undefined');
      text = encodeJson({ type: 'stream-data', id: this.id, data: value });
    } catch (err) {
      throw new InvalidArgumentError('value', `a JSON value (${(err as Error).message})`);
    }
    this.#checkSendable(false);
    this.#sentAny = true;
    this.#sending += 1;
    try {
      await this.#credit.take();
      // end() may have been called meanwhile: it goes out after this item.
      this.#checkSendable(true);
      this.#link.sendText(text);
    } finally {
      this.#sending -= 1;
      if (this.#sending === 0 && this.#localEnded && !this.#endSent && !this.#over) this.#sendEnd();
    }
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
    if (this.#localEnded || this.#over) return;
    this.#localEnded = true;
    if (this.#sending === 0) this.#sendEnd();
  }

  /**
   * Aborts the call: sends `stream-error` (the server's `call.signal`
   * aborts and its pending `call.send()` rejects), drops what is buffered,
   * finishes the iterator (no error) and emits `end`, not `error`. Pending
   * `send()` calls reject with an AbortError. Does nothing once the call is over.
   */
  cancel(): void {
    if (this.#over) return;
    this.#link.sendText(encodeJson({ type: 'stream-error', id: this.id, data: 'cancelled' }));
    this.#queue.length = 0;
    this.#read = 'cancelled';
    this.#finish(cancelledError());
    this.#settleReaders();
  }

  [Symbol.asyncIterator](): AsyncIterator<JsonValue> {
    return {
      next: () => this.#next(),
      return: () => {
        // Leaving a for-await early: the server need not go on producing.
        if (this.#read === 'open') this.cancel();
        this.#readFinished = true;
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  /** @internal the server's window from `welcome`: credit for both directions starts here */
  start(window: number): void {
    if (this.#window !== null) return;
    this.#window = new ReceiveWindow(window);
    this.#credit.add(window);
  }

  /** @internal stream-data @throws ProtocolError beyond the credit granted, or after the server's end */
  receiveData(value: JsonValue): void {
    if (this.#read !== 'open') {
      if (this.#read === 'ended') throw new ProtocolError(`stream ${this.id}: stream-data after stream-end`);
      return;
    }
    if (this.#window === null) throw new ProtocolError(`stream ${this.id}: stream-data before welcome`);
    this.#window.received(this.id);
    this.#queue.push(value);
    this.#deliver();
  }

  /** @internal stream-end from the server */
  receiveEnd(): void {
    if (this.#read !== 'open') return;
    this.#read = 'ended';
    // A call that sent nothing (unary, server streaming) is over when the server is done: end our half too,
    // so that the server can forget it (it counts open calls against maxStreams).
    if (!this.#sentAny && !this.#localEnded) this.end();
    else if (this.#endSent) this.#finish(null);
    this.#settleReaders();
  }

  /** @internal stream-error from the server */
  receiveError(data: JsonValue): void {
    this.fail(new JugglerError(data));
  }

  /** @internal stream-credit from the server */
  receiveCredit(n: number): void {
    if (!this.#over) this.#credit.add(n);
  }

  /**
   * @internal the call failed (server error, or its connection ended):
   * pending sends reject with `err`; the reader gets what was buffered,
   * then `err`; `error` listeners get it at once.
   */
  fail(err: Error): void {
    if (this.#over) return;
    const reading = this.#read === 'open';
    if (reading) {
      this.#read = 'failed';
      this.#error = err;
    }
    this.#finish(err);
    if (!reading) return;
    for (const listener of [...this.#listeners.error]) this.#invoke(listener, err);
    this.#settleReaders();
  }

  #checkSendable(admitted: boolean): void {
    if (this.#over) throw this.#failure ?? new Error(`call ${this.id} (${this.name}) is over`);
    if (!admitted && this.#localEnded) throw new Error(`call ${this.id} (${this.name}) already ended: send() after end()`);
  }

  #sendEnd(): void {
    this.#endSent = true;
    this.#link.sendText(encodeJson({ type: 'stream-end', id: this.id }));
    if (this.#read === 'ended') this.#finish(null);
  }

  /** Over on this side: no more sends, the id is released. */
  #finish(err: Error | null): void {
    if (this.#over) return;
    this.#over = true;
    this.#failure = err;
    this.#credit.fail(err ?? new Error(`call ${this.id} (${this.name}) is over`));
    this.#link.finished(this.id);
  }

  #next(): Promise<IteratorResult<JsonValue>> {
    if (this.#queue.length > 0) {
      const value = this.#take();
      return Promise.resolve({ value, done: false });
    }
    if (this.#readFinished) return Promise.resolve({ value: undefined, done: true });
    if (this.#read === 'failed') {
      this.#readFinished = true;
      return Promise.reject(this.#error!);
    }
    if (this.#read !== 'open') {
      this.#readFinished = true;
      this.#emitEnd();
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => this.#pulls.push({ resolve, reject }));
  }

  /** Takes the oldest buffered item as consumed: credit goes back to the server. */
  #take(): JsonValue {
    const value = this.#queue.shift()!;
    const grant = this.#window!.consumed();
    if (grant > 0 && this.#read === 'open') {
      this.#link.sendText(encodeJson({ type: 'stream-credit', id: this.id, n: grant }));
    }
    return value;
  }

  /** Hands buffered items to whoever consumes: waiting iterator pulls, or data listeners. */
  #deliver(): void {
    while (this.#queue.length > 0 && this.#pulls.length > 0) this.#pulls.shift()!.resolve({ value: this.#take(), done: false });
    if (this.#listeners.data.size === 0) return;
    while (this.#queue.length > 0 && this.#listeners.data.size > 0) {
      const value = this.#take();
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

  /** Hands out what is buffered; once the read side is over and nothing is left, finishes the readers. */
  #settleReaders(): void {
    this.#deliver();
    if (this.#queue.length > 0 || this.#read === 'open') return;
    const pulls = this.#pulls;
    this.#pulls = [];
    if (pulls.length > 0) this.#readFinished = true;
    if (this.#read === 'failed') {
      for (const pull of pulls) pull.reject(this.#error!);
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
      this.#link.report(err);
    }
  }
}
