/**
 * The stream calls of one extension connection (docs/protocol.md,
 * "Streams"): a `stream-open` is held until the connection is ready (its
 * onConnection settled), then handed to `onStream` with a
 * {@link ServerCall}; later `stream-*` messages are routed to their call;
 * every call is aborted when the connection goes.
 */
import { ProtocolError } from '../errors.js';
import type { JsonValue } from '../json.js';
import type { StreamMessage, StreamOpenMessage } from '../protocol/messages.js';
import { failureData, isJugglerError, toError } from './handler-result.js';
import { ServerCall } from './server-call.js';

/** The server options stream calls read (part of the connection's config). */
export interface StreamCallsConfig<C> {
  onStream: ((conn: C, name: string, data: JsonValue, call: ServerCall) => unknown) | null;
  /** Items each side may send before the receiver grants more. */
  streamWindow: number;
  /** Calls open at once; beyond it `stream-open` is answered with `stream-error`. */
  maxStreams: number;
}

/** What the stream calls need from their connection. */
export interface StreamCallsLink<C> {
  /** The connection handed to `onStream`. */
  readonly conn: C;
  /** Sends one stream message (a plain object) while the connection is open. */
  send(message: Record<string, unknown>): void;
  /** Whether calls may run now (onConnection has settled). */
  isReady(): boolean;
  /** A handler threw or rejected (its failure was sent as `stream-error`). */
  handlerError(err: Error): void;
  /** Our own code failed: the connection must close with 1011. */
  internalError(err: Error): void;
}

/** The protocol error for a `stream-open` whose id a request or call already uses. */
export function streamIdInUse(id: number): ProtocolError {
  return new ProtocolError(`stream id ${id} is already in use`);
}

/**
 * One connection's stream calls.
 *
 * @example
 * const streams = new StreamCalls(config.streams, link);
 * streams.open(message);     // held until start()
 * streams.start();
 * streams.route(data);       // stream-data, -end, -credit, -error from the client
 * streams.abortAll();        // the connection closed
 */
export class StreamCalls<C> {
  readonly #config: StreamCallsConfig<C>;
  readonly #link: StreamCallsLink<C>;
  readonly #calls = new Map<number, ServerCall>();
  #held: StreamOpenMessage[] = [];

  /** Stream calls open. */
  get size(): number {
    return this.#calls.size;
  }

  constructor(config: StreamCallsConfig<C>, link: StreamCallsLink<C>) {
    this.#config = config;
    this.#link = link;
  }

  /** Whether a call with this id is open or held. */
  has(id: number): boolean {
    return this.#calls.has(id) || this.#held.some((held) => held.id === id);
  }

  /**
   * Opens a call, or holds it until {@link StreamCalls.start}.
   * @throws ProtocolError when its id is in use
   */
  open(open: StreamOpenMessage): void {
    if (this.has(open.id)) throw streamIdInUse(open.id);
    if (this.#link.isReady()) this.#run(open);
    else this.#held.push(open);
  }

  /** Runs the calls held while the connection was not ready. */
  start(): void {
    const held = this.#held;
    this.#held = [];
    for (const open of held) this.#run(open);
  }

  /**
   * Hands a client's stream message to its call; a message for a call that
   * is not open crossed its end in flight and is ignored.
   * @throws ProtocolError for data beyond the credit granted
   */
  route(message: StreamMessage): void {
    const call = this.#calls.get(message.id);
    if (call === undefined) return;
    if (message.type === 'stream-data') call.receiveData(message.data);
    else if (message.type === 'stream-end') call.receiveEnd();
    else if (message.type === 'stream-credit') call.receiveCredit(message.n);
    else call.abort('cancelled');
  }

  /** Aborts every call and forgets the held ones (the connection closed). */
  abortAll(): void {
    this.#held = [];
    for (const call of [...this.#calls.values()]) call.abort('connection closed');
  }

  #run(open: StreamOpenMessage): void {
    const { onStream, streamWindow, maxStreams } = this.#config;
    const link = this.#link;
    const calls = this.#calls;
    if (!onStream || calls.size >= maxStreams) {
      const why = onStream ? `too many open calls (at most ${maxStreams})` : 'this server handles no streams (no onStream)';
      link.send({ type: 'stream-error', id: open.id, data: why });
      return;
    }
    const call = new ServerCall(open.id, streamWindow, {
      send: (message) => link.send(message),
      finished: (id) => calls.delete(id),
    });
    calls.set(open.id, call);
    this.#settle(call, () => onStream(link.conn, open.name, open.data, call)).catch((err) => link.internalError(toError(err)));
  }

  /** Runs the handler and ends the call with what it returned or threw. Rejects only on a bug of ours. */
  async #settle(call: ServerCall, handler: () => unknown): Promise<void> {
    let value: unknown;
    try {
      value = await handler();
    } catch (err) {
      if (call.signal.aborted) return;
      if (!isJugglerError(err)) this.#link.handlerError(toError(err));
      await call.complete({ error: failureData(err) });
      return;
    }
    await call.complete({ value });
  }
}
