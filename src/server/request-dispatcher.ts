/**
 * A connection's requests and one-way messages: scheduled through a
 * {@link RequestScheduler}, handed to `onRequest` / `onNotify`, answered on
 * the transport; keyed requests (docs/protocol.md, "Idempotent retry") go
 * through the session's {@link KeyedOutcomes}. Reading from the socket is
 * paused while too many requests wait or while the peer does not read its
 * answers, so a client that pipelines without end meets TCP backpressure.
 */
import { ProtocolError } from '../errors.js';
import type { JsonValue } from '../json.js';
import type { RequestMessage } from '../protocol/messages.js';
import type { Transport } from '../transport/transport.js';
import { encodeResponse, failureData, isJugglerError, toError } from './handler-result.js';
import type { Outcome } from './keyed-results.js';
import type { RequestMetrics, RequestStats } from './metrics/request-stats.js';
import { RequestScheduler } from './request-scheduler.js';
import type { KeyedOutcomes } from './session-backend.js';

/** The protocol error for a request id that a running request or stream call already uses. */
export function idInFlight(id: number): ProtocolError {
  return new ProtocolError(`request id ${id} is already in flight`);
}

/** The server options a dispatcher reads (part of the connection's config). */
export interface DispatcherConfig<C> {
  onRequest: ((conn: C, name: string, data: JsonValue) => unknown) | null;
  onNotify: ((conn: C, name: string, data: JsonValue) => void | Promise<void>) | null;
  /** Run requests concurrently (up to `maxInFlight`) instead of one at a time. */
  parallel: boolean;
  maxInFlight: number;
  /** Counts requests by name for the metrics; null (metrics off) costs nothing. */
  stats: RequestMetrics | null;
}

/** What a dispatcher needs from its connection. */
export interface DispatcherLink<C> {
  /** The connection handed to the handlers. */
  readonly conn: C;
  readonly transport: Transport;
  /** Whether answers may still be sent. */
  isOpen(): boolean;
  /** Stops (true) or resumes (false) reading from the socket. */
  pauseSocket(paused: boolean): void;
  /** A handler threw or rejected (its failure was answered already). */
  handlerError(err: Error): void;
  /** Our own code failed: the connection must close with 1011. */
  internalError(err: Error): void;
  /** The session's results of keyed requests (extension connections, after `hello`), else null. */
  keyed(): KeyedOutcomes | null;
}

/**
 * Dispatches one connection's requests.
 *
 * @example
 * const dispatcher = new RequestDispatcher(config.requests, link);
 * dispatcher.request(message);   // queued until start()
 * dispatcher.start();            // onConnection settled
 */
export class RequestDispatcher<C> {
  readonly #config: DispatcherConfig<C>;
  readonly #link: DispatcherLink<C>;
  readonly #scheduler: RequestScheduler;
  readonly #pausedBy = { scheduler: false, sendQueue: false };

  constructor(config: DispatcherConfig<C>, link: DispatcherLink<C>) {
    this.#config = config;
    this.#link = link;
    this.#scheduler = new RequestScheduler({
      parallel: config.parallel,
      maxInFlight: config.maxInFlight,
      setPaused: (paused) => {
        this.#pause('scheduler', paused);
        link.transport.setPaused(paused);
      },
      // The scheduler catches what a task's run() threw: our code, since handlers are wrapped.
      onTaskError: (err) => link.internalError(toError(err)),
    });
  }

  /** Whether a request with this id is queued or running. */
  has(id: number): boolean {
    return this.#scheduler.has(id);
  }

  /**
   * Queues a request (run at once when nothing waits).
   * @throws ProtocolError when its id is already in flight
   */
  request(request: RequestMessage): void {
    if (this.#scheduler.has(request.id)) throw idInFlight(request.id);
    this.#scheduler.push({ id: request.id, run: () => this.#handle(request) });
  }

  /** Queues a one-way message for `onNotify`, ordered with requests when they run one at a time. */
  notify(name: string, data: JsonValue): void {
    const { onNotify } = this.#config;
    if (!onNotify) return;
    this.#scheduler.push({
      id: null,
      run: () => {
        try {
          const result = onNotify(this.#link.conn, name, data);
          if (result instanceof Promise) return result.catch((err) => this.#link.handlerError(toError(err)));
        } catch (err) {
          this.#link.handlerError(toError(err));
        }
      },
    });
  }

  /**
   * Queues another kind of request under `id` (a `view` request) with the
   * requests: it waits for onConnection as they do, since its handler may
   * need what onConnection set up, and its id counts as in flight.
   * @throws ProtocolError when its id is already in flight
   */
  schedule(id: number, run: () => void | Promise<void>): void {
    if (this.#scheduler.has(id)) throw idInFlight(id);
    this.#scheduler.push({ id, run });
  }

  /** Lets requests run (the connection's onConnection has settled). */
  start(): void {
    this.#scheduler.start();
  }

  /** Drops what waits; running handlers finish, their answers go nowhere. */
  stop(): void {
    this.#scheduler.stop();
  }

  /** The send queue has room again: read from the peer again if its answers had piled up. */
  drained(): void {
    if (this.#pausedBy.sendQueue) this.#pause('sendQueue', false);
  }

  #handle(request: RequestMessage): void | Promise<void> {
    const { id, name, data, key } = request;
    if (name === '') {
      this.#respond(id, true, data);
      return;
    }
    const stats = this.#config.stats === null ? null : this.#config.stats.of(name);
    const started = stats === null ? 0 : performance.now();
    const keyed = key === undefined ? null : this.#link.keyed();
    if (key !== undefined && keyed !== null) {
      // The handler runs once per key; a keyed handler keeps running when its connection drops.
      return keyed.once(key, () => this.#invoke(name, data)).then((o) => this.#answer(id, o, stats, started));
    }
    const outcome = this.#invoke(name, data);
    if (outcome instanceof Promise) return outcome.then((o) => this.#answer(id, o, stats, started));
    this.#answer(id, outcome, stats, started);
  }

  #answer(id: number, outcome: Outcome, stats: RequestStats | null, started: number): void {
    if (stats !== null) stats.record((performance.now() - started) / 1000, outcome.success);
    this.#respond(id, outcome.success, outcome.data);
  }

  /** Runs onRequest; plain values are answered synchronously (no promise per request on the fast path). */
  #invoke(name: string, data: JsonValue): Outcome | Promise<Outcome> {
    const { onRequest } = this.#config;
    if (!onRequest) return { success: false, data: 'this server handles no requests (no onRequest)' };
    let result: unknown;
    try {
      result = onRequest(this.#link.conn, name, data);
    } catch (err) {
      return this.#failed(err);
    }
    let thenable: boolean;
    try {
      thenable = result !== null && typeof result === 'object' && typeof (result as PromiseLike<unknown>).then === 'function';
    } catch (err) {
      // A `then` getter that throws, or a revoked Proxy.
      return this.#failed(err);
    }
    if (!thenable) return { success: true, data: result };
    return Promise.resolve(result as PromiseLike<unknown>).then(
      (value) => ({ success: true, data: value }),
      (err) => this.#failed(err),
    );
  }

  #failed(err: unknown): Outcome {
    if (!isJugglerError(err)) this.#link.handlerError(toError(err));
    return { success: false, data: failureData(err) };
  }

  #respond(id: number, success: boolean, data: unknown): void {
    if (!this.#link.isOpen()) return;
    const transport = this.#link.transport;
    transport.sendText(encodeResponse(id, success, data));
    // A peer that sends requests but does not read the answers: stop reading it until it does,
    // or its answers would pile up here without bound. (The keepalive still runs: a peer that
    // takes nothing for pingDelay + pingTimeout is dropped.)
    if (transport.congested && !this.#pausedBy.sendQueue) this.#pause('sendQueue', true);
  }

  /** Reading from the socket stops while either reason holds. */
  #pause(reason: 'scheduler' | 'sendQueue', paused: boolean): void {
    this.#pausedBy[reason] = paused;
    this.#link.pauseSocket(this.#pausedBy.scheduler || this.#pausedBy.sendQueue);
  }
}
