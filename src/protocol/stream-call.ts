/**
 * One stream call as the protocol sees it, the same on both sides
 * (docs/protocol.md, "Streams"): two halves with explicit states, credit
 * both ways, and the inbound items not yet consumed. The client's
 * `ClientCall` and the server's `ServerCall` are adapters over it that
 * only present it (an async iterator, events, an AbortSignal).
 *
 * Our half (`local`) is `open`, `ending` (end asked for while sends still
 * wait for credit: `stream-end` follows them), `ended` (we sent
 * `stream-end`) or `errored` (we sent `stream-error`, or the call was cut).
 * The peer's half (`remote`) is `open`, `ended` or `errored` (its
 * `stream-error`, or the connection went). The call is over once both
 * halves have ended or either has errored; then pending sends reject and
 * the link forgets the id, so later messages for it are ignored.
 */
import { ProtocolError } from '../errors.js';
import type { JsonValue } from '../json.js';
import { ReceiveWindow, SendCredit } from './credit.js';

/** Where our half of a call is; see the file notes. */
export type LocalHalf = 'open' | 'ending' | 'ended' | 'errored';
/** Where the peer's half of a call is; see the file notes. */
export type RemoteHalf = 'open' | 'ended' | 'errored';

/** What a stream call needs from its connection (client or server). */
export interface StreamLink {
  /**
   * Sends one message of the call. `text`, when given, is `message`
   * already encoded as JSON (a side that validated by encoding need not
   * encode twice).
   */
  send(message: Record<string, unknown>, text?: string): void;
  /** The call is over: forget its id. */
  finished(id: number): void;
}

/** How one side runs its calls. */
export interface StreamCallOptions {
  /**
   * The client's rule: a call that has sent nothing when the peer ends
   * (unary, server streaming) ends our half too, so the server can forget it.
   */
  endWhenSilent: boolean;
  /** What a send rejects with once the call is over without an error. */
  overError: () => Error;
  /** What `send()` throws after `end()`. */
  endedError: () => Error;
}

/**
 * The state of one call and its rules; see the file notes.
 *
 * @example
 * const core = new StreamCall(id, { send, finished }, window, options);
 * core.onRead = () => deliver(); // items or the end of the peer's half
 * core.receiveData(item); // from the wire
 * const item = core.take(); // consumed: credit goes back in batches
 */
export class StreamCall {
  /** The call id (the client's; requests and calls share one id space). */
  readonly id: number;
  /** Called after the read side changed: an item queued, the peer's half ended or errored, or the call was cut. */
  onRead: () => void = () => {};
  readonly #link: StreamLink;
  readonly #options: StreamCallOptions;
  readonly #credit = new SendCredit(0);
  #window: ReceiveWindow | null = null;
  readonly #queue: JsonValue[] = [];
  #local: LocalHalf = 'open';
  #remote: RemoteHalf = 'open';
  #over = false;
  // Why sends fail once over; the error the peer's half failed with.
  #failure: Error | null = null;
  #remoteError: Error | null = null;
  #sending = 0;
  #sentAny = false;
  // Our reader is gone (the server's handler returned): items are dropped, their credit granted.
  #discarding = false;

  /**
   * @param window the credit each direction starts with, or `null` until
   *   it is known ({@link StreamCall.start}: the client learns it from `welcome`)
   */
  constructor(id: number, link: StreamLink, window: number | null, options: StreamCallOptions) {
    this.id = id;
    this.#link = link;
    this.#options = options;
    if (window !== null) this.start(window);
  }

  get local(): LocalHalf {
    return this.#local;
  }

  get remote(): RemoteHalf {
    return this.#remote;
  }

  /** Whether the call is over (both halves ended, or either errored). */
  get over(): boolean {
    return this.#over;
  }

  /** The error the peer's half failed with (`remote` is `errored`), else null. */
  get remoteError(): Error | null {
    return this.#remoteError;
  }

  /** Items we may still send before waiting for credit. */
  get credit(): number {
    return this.#credit.available;
  }

  /** Items received and not yet consumed. */
  get buffered(): number {
    return this.#queue.length;
  }

  /** The window is known: credit for both directions starts from it. Only the first call counts. */
  start(window: number): void {
    if (this.#window !== null) return;
    this.#window = new ReceiveWindow(window);
    this.#credit.add(window);
  }

  /**
   * Sends one item once we hold credit (waiting for it in order).
   * @param text the whole `stream-data` message as JSON, when already encoded
   * @throws (rejects) the call's failure once it is over; `endedError()`
   *   after `end()`
   */
  async send(data: JsonValue, text?: string): Promise<void> {
    if (this.#over) throw this.#failure!;
    if (this.#local !== 'open') throw this.#options.endedError();
    this.#sentAny = true;
    this.#sending += 1;
    try {
      await this.#credit.take();
      // end() may have been asked for meanwhile: stream-end follows this item.
      if (this.#over) throw this.#failure!;
      this.#link.send({ type: 'stream-data', id: this.id, data }, text);
    } finally {
      this.#sending -= 1;
      this.#endOnceDrained();
    }
  }

  /** Ends our half: `stream-end` goes after the items of sends already made. Does nothing twice or once over. */
  end(): void {
    if (this.#local !== 'open' || this.#over) return;
    if (this.#sending > 0) this.#local = 'ending';
    else this.#sendEnd();
  }

  /**
   * Errors our half: sends `stream-error` with `data` and the call is over.
   * @param failure what pending and later sends reject with (default `overError()`)
   */
  error(data: JsonValue, failure: Error = this.#options.overError()): void {
    if (this.#over) return;
    this.#link.send({ type: 'stream-error', id: this.id, data });
    this.#local = 'errored';
    this.#finish(failure);
    this.onRead();
  }

  /** Drops the items not yet consumed, granting no credit for them (the call is being cancelled). */
  drop(): void {
    this.#queue.length = 0;
  }

  /** Our reader is gone: what is buffered and whatever still arrives is dropped, its credit still granted. */
  discard(): void {
    this.#discarding = true;
    while (this.#queue.length > 0) this.take();
  }

  /** Takes the oldest item as consumed: credit goes back while the peer may still send. */
  take(): JsonValue {
    const item = this.#queue.shift()!;
    this.#grant();
    return item;
  }

  /**
   * `stream-data` from the peer. Ignored once the call is over (it crossed
   * our cancel in flight).
   * @throws ProtocolError after the peer's `stream-end`, before the window
   *   is known, or beyond the credit granted
   */
  receiveData(data: JsonValue): void {
    if (this.#remote === 'ended') throw new ProtocolError(`stream ${this.id}: stream-data after stream-end`);
    if (this.#over || this.#remote !== 'open') return;
    if (this.#window === null) throw new ProtocolError(`stream ${this.id}: stream-data before welcome`);
    this.#window.received(this.id);
    if (this.#discarding) {
      this.#grant();
      return;
    }
    this.#queue.push(data);
    this.onRead();
  }

  /** `stream-end` from the peer. */
  receiveEnd(): void {
    if (this.#remote !== 'open' || this.#over) return;
    this.#remote = 'ended';
    if (this.#options.endWhenSilent && !this.#sentAny && this.#local === 'open') this.end();
    else if (this.#local === 'ended') this.#finish(this.#options.overError());
    this.onRead();
  }

  /** `stream-credit` from the peer. */
  receiveCredit(n: number): void {
    if (!this.#over) this.#credit.add(n);
  }

  /**
   * The peer's half failed with `err` (its `stream-error`), or the
   * connection went: the call is over, pending sends reject with `err`.
   * When the peer had already ended, our half is the one cut.
   */
  fail(err: Error): void {
    if (this.#over) return;
    if (this.#remote === 'open') {
      this.#remote = 'errored';
      this.#remoteError = err;
    } else {
      this.#local = 'errored';
    }
    this.#finish(err);
    this.onRead();
  }

  #grant(): void {
    const n = this.#window!.consumed();
    if (n > 0 && this.#remote === 'open' && !this.#over) this.#link.send({ type: 'stream-credit', id: this.id, n });
  }

  #endOnceDrained(): void {
    if (this.#sending === 0 && this.#local === 'ending' && !this.#over) this.#sendEnd();
  }

  #sendEnd(): void {
    this.#local = 'ended';
    this.#link.send({ type: 'stream-end', id: this.id });
    if (this.#remote === 'ended') this.#finish(this.#options.overError());
  }

  #finish(failure: Error): void {
    this.#over = true;
    this.#failure = failure;
    this.#credit.fail(failure);
    this.#link.finished(this.id);
  }
}
