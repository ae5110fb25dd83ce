/**
 * One client connection on the server: requests in, responses,
 * notifications and state diffs out, over one {@link Transport}.
 */
import type { WebSocket, RawData } from 'ws';
import { InvalidArgumentError, JugglerError, ProtocolError } from '../errors.js';
import type { JsonValue } from '../json.js';
import { parseClientMessage, type ClientMessage, type RequestMessage } from '../protocol/messages.js';
import type { Storage } from '../state/storage.js';
import type { StateChannel, StateSubscriber } from '../state/state-channel.js';
import {
  CLOSE_INTERNAL_ERROR,
  CLOSE_NORMAL,
  CLOSE_UNSUPPORTED_DATA,
  clampReason,
  isApplicationCloseCode,
} from '../transport/close-codes.js';
import { Transport, type EncodedMessage } from '../transport/transport.js';
import { encodeResponse, failureData } from './handler-result.js';
import type { ResolvedOptions, UpgradeRequest } from './options.js';
import { RequestScheduler } from './request-scheduler.js';
import { wsTransportSocket } from './ws-socket.js';

/** What a connection needs from the server that made it. */
export interface ConnectionContext {
  options: ResolvedOptions;
  channel: StateChannel;
  user: string | null;
  remote: string;
  request: UpgradeRequest;
  /** Runs once when the connection has closed, whatever closed it. */
  onClosed(conn: Connection): void;
}

type Lifecycle = 'opening' | 'open' | 'closing' | 'closed';

/** The error that flush() and notify() reject with once the connection is gone. */
function closedError(): Error {
  return new Error('connection closed');
}

/**
 * A client connected to the juggler endpoint. Created by the server; given
 * to `onConnection`, `onRequest` and the other callbacks.
 */
export class Connection implements StateSubscriber {
  /** This connection's state: its own Storage, or the server's shared one. */
  readonly state: Storage;
  /** The client's address: from Forwarded / X-Forwarded-For when trusted, else the socket's. */
  readonly remote: string;
  /** The authenticated user (htpasswd user name or what `authenticate` returned), else null. */
  readonly user: string | null;
  /** URL and headers of the upgrade request. */
  readonly request: UpgradeRequest;
  /** Resolves once the connection is closed, however that happened. Never rejects. */
  readonly closed: Promise<void>;
  /** @internal whether koa-juggler.v1 was negotiated (its state messages carry versions) */
  readonly extension = false;

  readonly #ws: WebSocket;
  readonly #ctx: ConnectionContext;
  readonly #transport: Transport;
  readonly #scheduler: RequestScheduler;
  #lifecycle: Lifecycle = 'opening';
  #resolveClosed!: () => void;
  #joined = false;

  /** @internal created by the server */
  constructor(ws: WebSocket, ctx: ConnectionContext) {
    this.#ws = ws;
    this.#ctx = ctx;
    this.state = ctx.channel.storage;
    this.remote = ctx.remote;
    this.user = ctx.user;
    this.request = ctx.request;
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    const { options } = ctx;
    this.#transport = new Transport(
      wsTransportSocket(ws),
      {
        maxSegmentSize: options.maxSegmentSize,
        maxMessageSize: options.maxMessageSize,
        pingDelay: options.framing === 'plain' ? null : options.pingDelay,
        pingTimeout: options.pingTimeout,
        sendQueueSize: options.sendQueueSize,
        framing: options.framing,
      },
      {
        message: (text) => this.#onMessage(text),
        lost: (reason) => this.#report(new Error(`connection lost: ${reason}`), 'socket'),
        drain: () => {
          if (this.#joined) ctx.channel.drained(this);
        },
      },
    );
    this.#scheduler = new RequestScheduler({
      parallel: options.parallelRequests,
      maxInFlight: options.maxRequestsInFlight,
      setPaused: (paused) => {
        if (paused) ws.pause();
        else ws.resume();
        this.#transport.setPaused(paused);
      },
      onTaskError: (err) => this.#report(err instanceof Error ? err : new Error(String(err)), 'handler'),
    });
    ws.on('message', this.#onFrame);
    ws.on('close', () => this.#teardown());
    ws.on('error', (err: Error & { code?: string }) => {
      // ws closes by itself after these (1007 invalid UTF-8, 1009 too big, bad frames).
      this.#report(err, err.code?.startsWith('WS_ERR_') ? 'protocol' : 'socket');
    });
  }

  /** Whether the connection is open (false once closing has begun). */
  get isOpen(): boolean {
    return this.#lifecycle === 'open' || this.#lifecycle === 'opening';
  }

  /** @internal whether this connection's send queue is full (state diffs are held back) */
  get congested(): boolean {
    return this.#transport.congested;
  }

  /** @internal sends one state message encoded once for many connections */
  sendEncoded(frames: EncodedMessage): void {
    if (this.isOpen) this.#transport.sendEncoded(frames);
  }

  /**
   * Sends a notification. Waits while the send queue is full
   * (`sendQueueSize`), so a fast producer cannot grow memory without bound.
   * @throws InvalidArgumentError when `name` is not a string
   * @throws TypeError when JSON cannot carry `data`
   * @throws Error when the connection is or becomes closed
   */
  async notify(name: string, data: JsonValue = null): Promise<void> {
    if (typeof name !== 'string') throw new InvalidArgumentError('name', 'a string', name);
    if (!this.isOpen) throw closedError();
    const text = JSON.stringify({ type: 'notify', name, data });
    if (text === undefined) throw new TypeError('data is not representable as JSON');
    if (this.#transport.congested) await this.#transport.waitWritable();
    if (!this.isOpen) throw closedError();
    this.#transport.sendText(text);
  }

  /**
   * Sends this connection's pending state diff now. Resolves once it is
   * queued on the socket ahead of every later message (at once when
   * nothing is pending). For a shared state the other connections get the
   * same diff at the same moment.
   * @throws Error when the connection is or becomes closed
   */
  async flush(): Promise<void> {
    if (!this.isOpen) throw closedError();
    if (this.#joined) this.#ctx.channel.flush(this);
  }

  /**
   * Closes the connection.
   * @param code 1000 (default) or an application code 4000–4999
   * @param reason a short text for the client
   * @throws InvalidArgumentError for another code
   */
  close(code: number = CLOSE_NORMAL, reason = ''): void {
    if (!isApplicationCloseCode(code)) throw new InvalidArgumentError('code', '1000 or an integer from 4000 to 4999', code);
    if (typeof reason !== 'string') throw new InvalidArgumentError('reason', 'a string', reason);
    this.closeWith(code, reason);
  }

  /** @internal closes with any code (1001 on shutdown, 1002 on protocol errors, ...) */
  closeWith(code: number, reason: string): void {
    if (!this.isOpen) return;
    this.#lifecycle = 'closing';
    this.#transport.close();
    this.#scheduler.stop();
    this.#ws.close(code, clampReason(reason));
  }

  /** @internal cuts the socket without a handshake (shutdown past its timeout) */
  destroy(): void {
    this.#ws.terminate();
  }

  /** @internal runs onConnection, then joins the state and lets requests run */
  async start(): Promise<void> {
    const { onConnection } = this.#ctx.options;
    if (onConnection) {
      try {
        await onConnection(this);
      } catch (err) {
        this.#report(err instanceof Error ? err : new Error(String(err)), 'connection');
        this.closeWith(CLOSE_INTERNAL_ERROR, 'connection setup failed');
        return;
      }
    }
    if (!this.isOpen) return;
    this.#lifecycle = 'open';
    this.#joined = true;
    this.#ctx.channel.join(this);
    this.#scheduler.start();
  }

  readonly #onFrame = (data: RawData, isBinary: boolean): void => {
    if (!this.isOpen) return;
    if (isBinary) {
      this.#protocolError(new ProtocolError('binary frames are not supported', { closeCode: CLOSE_UNSUPPORTED_DATA }));
      return;
    }
    const buffer = data as Buffer;
    try {
      this.#transport.receive(buffer.toString(), buffer.length);
    } catch (err) {
      if (err instanceof ProtocolError) this.#protocolError(err);
      else throw err;
    }
  };

  #onMessage(text: string): void {
    let message: ClientMessage;
    try {
      message = parseClientMessage(text, this.extension);
    } catch (err) {
      this.#protocolError(err as ProtocolError);
      return;
    }
    if (message.type === 'request') this.#onRequest(message);
  }

  #onRequest(request: RequestMessage): void {
    if (this.#scheduler.has(request.id)) {
      this.#protocolError(new ProtocolError(`request id ${request.id} is already in flight`));
      return;
    }
    this.#scheduler.push({ id: request.id, run: () => this.#handle(request) });
  }

  #handle(request: RequestMessage): void | Promise<void> {
    const { id, name, data } = request;
    if (name === '') {
      this.#respond(id, true, data);
      return;
    }
    const { onRequest } = this.#ctx.options;
    if (!onRequest) {
      this.#respond(id, false, 'this server handles no requests (no onRequest)');
      return;
    }
    let result: unknown;
    try {
      result = onRequest(this, name, data);
    } catch (err) {
      this.#failed(id, err);
      return;
    }
    // Plain values are answered synchronously: no promise per request on the fast path.
    if (result === null || typeof result !== 'object' || typeof (result as PromiseLike<unknown>).then !== 'function') {
      this.#respond(id, true, result);
      return;
    }
    return Promise.resolve(result as PromiseLike<unknown>).then(
      (value) => this.#respond(id, true, value),
      (err) => this.#failed(id, err),
    );
  }

  #failed(id: number, err: unknown): void {
    if (!(err instanceof JugglerError)) {
      this.#report(err instanceof Error ? err : new Error(String(failureData(err))), 'handler');
    }
    this.#respond(id, false, failureData(err));
  }

  #respond(id: number, success: boolean, data: unknown): void {
    if (!this.isOpen) return;
    this.#transport.sendText(encodeResponse(id, success, data));
  }

  #protocolError(err: ProtocolError): void {
    this.#report(err, 'protocol');
    this.closeWith(err.closeCode, err.message);
  }

  #report(err: Error, kind: 'handler' | 'connection' | 'protocol' | 'socket'): void {
    try {
      this.#ctx.options.onError(err, { conn: this, kind });
    } catch {
      // An onError that throws must not take the connection or the server down.
    }
  }

  #teardown(): void {
    if (this.#lifecycle === 'closed') return;
    this.#lifecycle = 'closed';
    this.#transport.close();
    this.#scheduler.stop();
    this.#ws.off('message', this.#onFrame);
    if (this.#joined) this.#ctx.channel.leave(this);
    this.#ctx.onClosed(this);
    this.#resolveClosed();
  }
}
