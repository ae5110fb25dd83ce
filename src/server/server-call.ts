/**
 * One streaming call on the server (PROTOCOL.md, "Streams"): the `call`
 * object `onStream` gets. Reading it yields what the client sends until the
 * client ends; `send()` waits for credit; `signal` aborts when the client
 * cancels or the connection goes.
 */
import { InvalidArgumentError } from '../errors.js';
import type { JsonValue } from '../json.js';
import { ReceiveWindow, SendCredit } from '../protocol/credit.js';

/** What a call needs from its connection. */
export interface CallLink {
  /** Sends one stream message (already a plain object). */
  send(message: Record<string, unknown>): void;
  /** The call is over on both sides: forget it. */
  finished(id: number): void;
}

/** The error `call.send()` rejects with once the call is cancelled or its connection is gone. */
function abortedError(reason: string): Error {
  return Object.assign(new Error(`call ${reason}`), { name: 'AbortError' });
}

/**
 * A streaming call, as its handler sees it.
 *
 * @example
 * async onStream(conn, name, data, call) {
 *   for await (const item of call) await call.send(item * 2);
 * }
 */
export class ServerCall implements AsyncIterable<JsonValue> {
  /** The call id (the client's). */
  readonly id: number;
  readonly #link: CallLink;
  readonly #abort = new AbortController();
  readonly #credit: SendCredit;
  readonly #window: ReceiveWindow;
  readonly #queue: JsonValue[] = [];
  #pull: ((result: IteratorResult<JsonValue>) => void) | null = null;
  #clientEnded = false;
  #serverEnded = false;
  #handlerDone = false;
  #over = false;

  /** @internal made by the connection */
  constructor(id: number, window: number, link: CallLink) {
    this.id = id;
    this.#link = link;
    this.#credit = new SendCredit(window);
    this.#window = new ReceiveWindow(window);
  }

  /** Aborts when the client cancels or the connection is gone. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /**
   * Sends one item to the client, waiting while it grants no credit.
   * @throws InvalidArgumentError when JSON cannot carry `value`
   * @throws Error (name AbortError) when the call was cancelled or the connection is gone
   * @throws Error when the call has already ended
   */
  async send(value: JsonValue): Promise<void> {
    if (value === undefined) throw new InvalidArgumentError('value', 'a JSON value', value);
    if (this.#abort.signal.aborted) throw abortedError('cancelled');
    if (this.#serverEnded) throw new Error(`call ${this.id} already ended`);
    await this.#credit.take();
    if (this.#abort.signal.aborted) throw abortedError('cancelled');
    this.#link.send({ type: 'stream-data', id: this.id, data: value });
  }

  /** Ends the server's half: the client gets `stream-end` after what was sent. Safe to call twice. */
  end(): void {
    if (this.#serverEnded || this.#over) return;
    this.#serverEnded = true;
    this.#link.send({ type: 'stream-end', id: this.id });
    if (this.#clientEnded) this.#finish();
  }

  [Symbol.asyncIterator](): AsyncIterator<JsonValue> {
    return {
      next: () => {
        if (this.#queue.length > 0) return Promise.resolve({ value: this.#take(), done: false });
        if (this.#clientEnded || this.#abort.signal.aborted) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (this.#pull = resolve));
      },
      return: () => Promise.resolve({ value: undefined, done: true }),
    };
  }

  /** @internal the handler returned (with its value) or threw (with its failure data) */
  async complete(outcome: { value: unknown } | { error: JsonValue }): Promise<void> {
    this.#handlerDone = true;
    // Data the handler never read is dropped, but its credit is still granted.
    while (this.#queue.length > 0) this.#take();
    if (this.#over || this.#abort.signal.aborted) return;
    if ('error' in outcome) {
      this.#link.send({ type: 'stream-error', id: this.id, data: outcome.error });
      this.#finish();
      return;
    }
    if (outcome.value !== undefined && !this.#serverEnded) {
      try {
        await this.send(outcome.value as JsonValue);
      } catch {
        return;
      }
    }
    this.end();
  }

  /** @internal stream-data from the client @throws ProtocolError beyond the credit */
  receiveData(data: JsonValue): void {
    this.#window.received(this.id);
    if (this.#handlerDone) {
      this.#grant(this.#window.consumed());
      return;
    }
    if (this.#pull !== null) {
      const pull = this.#pull;
      this.#pull = null;
      this.#grant(this.#window.consumed());
      pull({ value: data, done: false });
      return;
    }
    this.#queue.push(data);
  }

  /** @internal stream-end from the client */
  receiveEnd(): void {
    if (this.#clientEnded) return;
    this.#clientEnded = true;
    this.#wakeDone();
    if (this.#serverEnded) this.#finish();
  }

  /** @internal stream-credit from the client */
  receiveCredit(n: number): void {
    this.#credit.add(n);
  }

  /** @internal stream-error from the client (a cancel), or the connection went away */
  abort(reason: 'cancelled' | 'connection closed'): void {
    if (this.#over) return;
    this.#abort.abort(abortedError(reason));
    this.#credit.fail(abortedError(reason));
    this.#wakeDone();
    this.#finish();
  }

  #take(): JsonValue {
    const item = this.#queue.shift()!;
    this.#grant(this.#window.consumed());
    return item;
  }

  #grant(n: number): void {
    if (n > 0 && !this.#over && !this.#clientEnded) this.#link.send({ type: 'stream-credit', id: this.id, n });
  }

  #wakeDone(): void {
    if (this.#pull !== null && this.#queue.length === 0) {
      const pull = this.#pull;
      this.#pull = null;
      pull({ value: undefined, done: true });
    }
  }

  #finish(): void {
    if (this.#over) return;
    this.#over = true;
    this.#credit.fail(abortedError('ended'));
    this.#link.finished(this.id);
  }
}
