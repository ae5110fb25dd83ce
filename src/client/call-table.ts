/**
 * The open stream calls of one client connection, by id: opens them,
 * routes the server's `stream-*` messages to their protocol state, and
 * starts or fails them all at once (on `welcome`, and when the connection
 * ends).
 */
import { JugglerError, type ProtocolError } from '../errors.js';
import type { StreamMessage } from '../protocol/messages.js';
import type { StreamCall, StreamLink } from '../protocol/stream-call.js';
import { openClientCall, type ClientCall } from './client-call.js';

/** The calls of one connection; see the file notes. @internal */
export class CallTable {
  readonly #calls = new Map<number, StreamCall>();
  readonly #link: StreamLink;
  readonly #report: (err: unknown) => void;
  #window: number | null = null;

  /**
   * @param send sends one message on the connection (`text` is its JSON when already encoded)
   * @param report where errors thrown by event listeners go (`onError`)
   */
  constructor(send: StreamLink['send'], report: (err: unknown) => void) {
    this.#link = { send, finished: (id) => this.#calls.delete(id) };
    this.#report = report;
  }

  /** A new call with id `id` (its `stream-open` is the caller's to send). Credit starts once the window is known. */
  open(id: number, name: string): ClientCall {
    const { call, core } = openClientCall(id, name, this.#link, this.#report);
    if (this.#window !== null) core.start(this.#window);
    this.#calls.set(id, core);
    return call;
  }

  /** The window from `welcome`: every call's credit starts from it, calls opened before it included. */
  start(window: number): void {
    this.#window = window;
    for (const core of this.#calls.values()) core.start(window);
  }

  /**
   * Hands a message to its call. A message for a call that is not open
   * crossed its end (or a cancel) in flight, and is ignored
   * (docs/protocol.md, "Streams").
   * @throws ProtocolError when the message breaks the call's rules (data beyond the credit, after the end)
   */
  receive(message: StreamMessage): void {
    const core = this.#calls.get(message.id);
    if (core === undefined) return;
    switch (message.type) {
      case 'stream-data':
        return core.receiveData(message.data);
      case 'stream-end':
        return core.receiveEnd();
      case 'stream-error':
        return core.fail(new JugglerError(message.data));
      case 'stream-credit':
        return core.receiveCredit(message.n);
    }
  }

  /** The connection ended: every open call fails with its error. */
  failAll(err: Error | ProtocolError): void {
    const calls = [...this.#calls.values()];
    this.#calls.clear();
    for (const core of calls) core.fail(err);
  }
}
