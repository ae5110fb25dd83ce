/**
 * The open stream calls of one client connection, by id: opens them,
 * routes the server's `stream-*` messages to them, and starts or fails
 * them all at once (on `welcome`, and when the connection ends).
 */
import type { ProtocolError } from '../errors.js';
import type { StreamMessage } from '../protocol/messages.js';
import { ClientCall, type CallLink } from './client-call.js';

/** The calls of one connection; see the file notes. @internal */
export class CallTable {
  readonly #calls = new Map<number, ClientCall>();
  readonly #link: CallLink;
  #window: number | null = null;

  /**
   * @param sendText sends one message (JSON text) on the connection
   * @param report where errors thrown by event listeners go (`onError`)
   */
  constructor(sendText: (text: string) => void, report: (err: unknown) => void) {
    this.#link = { sendText, finished: (id) => this.#calls.delete(id), report };
  }

  /** Open calls. */
  get size(): number {
    return this.#calls.size;
  }

  /** A new call with id `id` (its `stream-open` is the caller's to send). Credit starts once the window is known. */
  open(id: number, name: string): ClientCall {
    const call = new ClientCall(id, name, this.#link);
    if (this.#window !== null) call.start(this.#window);
    this.#calls.set(id, call);
    return call;
  }

  /** The window from `welcome`: every call's credit starts from it, calls opened before it included. */
  start(window: number): void {
    this.#window = window;
    for (const call of this.#calls.values()) call.start(window);
  }

  /**
   * Hands a message to its call. A message for a call that is not open
   * crossed its end (or a cancel) in flight, and is ignored (PROTOCOL.md).
   * @throws ProtocolError when the message breaks the call's rules (data beyond the credit, after the end)
   */
  receive(message: StreamMessage): void {
    const call = this.#calls.get(message.id);
    if (call === undefined) return;
    switch (message.type) {
      case 'stream-data':
        return call.receiveData(message.data);
      case 'stream-end':
        return call.receiveEnd();
      case 'stream-error':
        return call.receiveError(message.data);
      case 'stream-credit':
        return call.receiveCredit(message.n);
    }
  }

  /** The connection ended: every open call fails with its error. */
  failAll(err: Error | ProtocolError): void {
    const calls = [...this.#calls.values()];
    this.#calls.clear();
    for (const call of calls) call.fail(err);
  }
}
