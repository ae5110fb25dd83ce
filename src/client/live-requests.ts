/**
 * The reconnecting client's requests (docs/protocol.md, "Idempotent retry"):
 * each lives across connections until it settles. A keyed request whose
 * connection dropped is parked, then re-sent (same key, new id) on the
 * next connection whose `welcome` says the session was resumed, or failed
 * with the error of the connection it was on. Its `timeout` counts from
 * the call, across reconnects, and sends nothing to the server.
 */
import { InvalidArgumentError, JugglerError, TimeoutError } from '../errors.js';
import type { JsonValue } from '../json.js';
import { CLIENT_INTERNALS, type Client } from './client.js';

interface LiveRequest {
  readonly name: string;
  readonly data: JsonValue;
  readonly key: string | null;
  resolve(value: JsonValue): void;
  reject(err: Error): void;
  timer: ReturnType<typeof setTimeout> | null;
  settled: boolean;
  /** The connection it is in flight on, and its id there; null while parked. */
  on: { client: Client; id: number } | null;
  /** The error of the connection it was cut from, while parked. */
  cut: Error | null;
}

/** The requests of one reconnecting client; see the file notes. @internal */
export class LiveRequests {
  readonly #parked = new Set<LiveRequest>();
  readonly #mayRetry: () => boolean;

  /** @param mayRetry whether a cut keyed request may wait for the next connection (false once stopping) */
  constructor(mayRetry: () => boolean) {
    this.#mayRetry = mayRetry;
  }

  /** Sends a request on `client` and follows it until it settles. */
  send(client: Client, name: string, data: JsonValue, key: string | null, timeout: number | null): Promise<JsonValue> {
    return new Promise<JsonValue>((resolve, reject) => {
      const request: LiveRequest = { name, data, key, resolve, reject, timer: null, settled: false, on: null, cut: null };
      if (timeout !== null) request.timer = setTimeout(() => this.#timeout(request, timeout), timeout);
      this.#dispatch(request, client);
    });
  }

  /** A new connection is ready: re-send what is parked if its session was resumed, else fail it. */
  connected(client: Client): void {
    const parked = [...this.#parked];
    this.#parked.clear();
    for (const request of parked) {
      if (client.extension && client.resumed) this.#dispatch(request, client);
      else this.#settle(request, request.cut!);
    }
  }

  /** Stopping: everything parked fails with the error of its connection. */
  failParked(): void {
    const parked = [...this.#parked];
    this.#parked.clear();
    for (const request of parked) this.#settle(request, request.cut!);
  }

  #dispatch(request: LiveRequest, client: Client): void {
    const { id, answer } = CLIENT_INTERNALS.request(client, request.name, request.data, request.key, null);
    request.on = id < 0 ? null : { client, id };
    request.cut = null;
    answer.then(
      (value) => this.#settle(request, null, value),
      (err: Error) => {
        if (request.settled) return;
        request.on = null;
        // The server's answer, or a request that could not be sent: final. Anything else is the connection's end.
        const final = err instanceof JugglerError || err instanceof InvalidArgumentError;
        if (final || request.key === null || !this.#mayRetry()) {
          this.#settle(request, err);
          return;
        }
        request.cut = err;
        this.#parked.add(request);
      },
    );
  }

  #timeout(request: LiveRequest, timeout: number): void {
    request.timer = null;
    if (request.settled) return;
    this.#parked.delete(request);
    const err = new TimeoutError(`request ${JSON.stringify(request.name)} got no response within ${timeout} ms`);
    const on = request.on;
    this.#settle(request, err);
    // Nothing goes to the server; the connection just stops waiting (a late answer is ignored).
    if (on !== null) CLIENT_INTERNALS.forget(on.client, on.id, err);
  }

  #settle(request: LiveRequest, err: Error | null, value?: JsonValue): void {
    if (request.settled) return;
    request.settled = true;
    request.on = null;
    if (request.timer !== null) clearTimeout(request.timer);
    request.timer = null;
    if (err === null) request.resolve(value as JsonValue);
    else request.reject(err);
  }
}
