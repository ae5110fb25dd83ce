/**
 * One streaming call on the server (docs/protocol.md, "Streams"): the
 * `call` object `onStream` gets. Reading it yields what the client sends
 * until the client ends; `send()` waits for credit; `signal` aborts when
 * the client cancels or the connection goes. The call's state, credit and
 * buffer are a {@link StreamCall} (src/protocol/stream-call.ts); this
 * adapter presents it to the handler.
 */
import { InvalidArgumentError } from '../errors.js';
import type { JsonValue } from '../json.js';
import { StreamCall, type StreamLink } from '../protocol/stream-call.js';

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
 *
 * Typed by the API map (README, "Types"): `In` is what the client sends,
 * `Out` what `send()` takes.
 */
export class ServerCall<In = JsonValue, Out = JsonValue> implements AsyncIterable<In> {
  /** The call id (the client's). */
  readonly id: number;
  readonly #core: StreamCall;
  readonly #abort = new AbortController();
  #pull: ((result: IteratorResult<JsonValue>) => void) | null = null;

  /** @internal made by the connection */
  constructor(id: number, window: number, link: StreamLink) {
    this.id = id;
    this.#core = new StreamCall(id, link, window, {
      endWhenSilent: false,
      overError: () => abortedError('ended'),
      endedError: () => new Error(`call ${id} already ended`),
    });
    this.#core.onRead = () => this.#wake();
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
  async send(value: Out): Promise<void> {
    if (value === undefined) throw new InvalidArgumentError('value', 'a JSON value', value);
    if (this.#abort.signal.aborted) throw abortedError('cancelled');
    const local = this.#core.local;
    if (local === 'ending' || local === 'ended') throw new Error(`call ${this.id} already ended`);
    await this.#core.send(value as JsonValue);
  }

  /** Ends the server's half: the client gets `stream-end` after what was sent. Safe to call twice. */
  end(): void {
    this.#core.end();
  }

  /** The client's items in order, until it ends the call; granting credit as each one is taken. */
  [Symbol.asyncIterator](): AsyncIterator<In> {
    return {
      next: () => {
        if (this.#core.buffered > 0) return Promise.resolve({ value: this.#core.take() as In, done: false });
        if (this.#readOver) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (this.#pull = resolve as (result: IteratorResult<JsonValue>) => void));
      },
      return: () => Promise.resolve({ value: undefined, done: true }),
    };
  }

  /** @internal the handler returned (with its value) or threw (with its failure data) */
  async complete(outcome: { value: unknown } | { error: JsonValue }): Promise<void> {
    // Data the handler never read is dropped, but its credit is still granted.
    this.#core.discard();
    if (this.#core.over || this.#abort.signal.aborted) return;
    if ('error' in outcome) {
      this.#core.error(outcome.error);
      return;
    }
    if (outcome.value !== undefined && this.#core.local === 'open') {
      try {
        await this.send(outcome.value as Out);
      } catch {
        return;
      }
    }
    this.end();
  }

  /** @internal stream-data from the client @throws ProtocolError beyond the credit, or after the client's end */
  receiveData(data: JsonValue): void {
    this.#core.receiveData(data);
  }

  /** @internal stream-end from the client */
  receiveEnd(): void {
    this.#core.receiveEnd();
  }

  /** @internal stream-credit from the client */
  receiveCredit(n: number): void {
    this.#core.receiveCredit(n);
  }

  /** @internal stream-error from the client (a cancel), or the connection went away */
  abort(reason: 'cancelled' | 'connection closed'): void {
    if (this.#core.over) return;
    const err = abortedError(reason);
    this.#abort.abort(err);
    this.#core.fail(err);
  }

  /** Whether nothing more will arrive: the client ended, or the call was cut. */
  get #readOver(): boolean {
    return this.#core.remote !== 'open' || this.#abort.signal.aborted;
  }

  /** Hands an item, or the end, to the handler's waiting `next()`. */
  #wake(): void {
    const pull = this.#pull;
    if (pull === null) return;
    if (this.#core.buffered > 0) {
      this.#pull = null;
      pull({ value: this.#core.take(), done: false });
    } else if (this.#readOver) {
      this.#pull = null;
      pull({ value: undefined, done: true });
    }
  }
}
