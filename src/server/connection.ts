/**
 * One client connection on the server: requests in, responses,
 * notifications and state diffs out, over one {@link Transport}; with the
 * koa-juggler.v1 extension also hello/welcome, sessions, keyed requests,
 * one-way messages and streaming calls.
 */
import type { WebSocket, RawData } from 'ws';
import { InvalidArgumentError, ProtocolError } from '../errors.js';
import type { JsonValue } from '../json.js';
import {
  EXTENSION_PROTOCOL,
  parseClientMessage,
  type ClientMessage,
  type HelloMessage,
  type RequestMessage,
  type StreamOpenMessage,
} from '../protocol/messages.js';
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
import { encodeResponse, failureData, isJugglerError, toError } from './handler-result.js';
import type { Outcome } from './keyed-results.js';
import type { ErrorKind, ResolvedOptions, UpgradeRequest } from './options.js';
import { RequestScheduler } from './request-scheduler.js';
import { ServerCall } from './server-call.js';
import type { Session, SessionStore } from './sessions.js';
import { wsTransportSocket } from './ws-socket.js';

/** What a connection needs from the server that made it. */
export interface ConnectionContext {
  options: ResolvedOptions;
  /** The shared state's channel, or null when each connection (or session) has its own. */
  sharedChannel: StateChannel | null;
  /** Makes a channel for a connection's own Storage. */
  newChannel(): StateChannel;
  /** The extension's sessions (null when the extension is off). */
  sessions: SessionStore | null;
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
  /** The client's address: from Forwarded / X-Forwarded-For when trusted, else the socket's. */
  readonly remote: string;
  /** The authenticated user (htpasswd user name or what `authenticate` returned), else null. */
  readonly user: string | null;
  /** URL and headers of the upgrade request. */
  readonly request: UpgradeRequest;
  /** Resolves once the connection is closed, however that happened. Never rejects. */
  readonly closed: Promise<void>;
  /** @internal whether koa-juggler.v1 was negotiated (its state messages carry versions) */
  readonly extension: boolean;

  readonly #ws: WebSocket;
  readonly #readingPausedBy = { scheduler: false, sendQueue: false };
  readonly #ctx: ConnectionContext;
  readonly #transport: Transport;
  readonly #scheduler: RequestScheduler;
  #channel: StateChannel | null = null;
  #ownsChannel = false;
  #session: Session | null = null;
  #calls: Map<number, ServerCall> | null = null;
  #heldStreams: StreamOpenMessage[] = [];
  #helloTimer: ReturnType<typeof setTimeout> | null = null;
  #lifecycle: Lifecycle = 'opening';
  #ready = false;
  #joined = false;
  #resolveClosed!: () => void;

  /** @internal created by the server */
  constructor(ws: WebSocket, ctx: ConnectionContext) {
    this.#ws = ws;
    this.#ctx = ctx;
    this.remote = ctx.remote;
    this.user = ctx.user;
    this.request = ctx.request;
    this.extension = ctx.sessions !== null && ws.protocol === EXTENSION_PROTOCOL;
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
          if (this.#joined) this.#channel?.drained(this);
          if (this.#readingPausedBy.sendQueue) this.#pauseReading('sendQueue', false);
        },
      },
    );
    this.#scheduler = new RequestScheduler({
      parallel: options.parallelRequests,
      maxInFlight: options.maxRequestsInFlight,
      setPaused: (paused) => {
        this.#pauseReading('scheduler', paused);
        this.#transport.setPaused(paused);
      },
      onTaskError: (err) => this.#report(toError(err), 'handler'),
    });
    ws.on('message', this.#onFrame);
    ws.on('close', () => this.#teardown());
    ws.on('error', (err: Error & { code?: string }) => {
      // ws closes by itself after these (1007 invalid UTF-8, 1009 too big, bad frames).
      this.#report(err, err.code?.startsWith('WS_ERR_') ? 'protocol' : 'socket');
    });
  }

  /**
   * This connection's state: the server's shared Storage, or its own (on an
   * extension connection, its session's, which outlives a reconnect).
   * @throws Error on an extension connection before its `hello` (no callback sees one then)
   */
  get state(): Storage {
    if (this.#channel === null) {
      if (this.extension) throw new Error('connection state is not ready before the client says hello');
      // A plain connection's own state is made on first use: many applications never touch it,
      // and a Storage with its sync channel costs about 2 KiB per connection. Made after the
      // join point, it starts as null, so joining sends nothing and every set() goes out as a diff.
      this.#channel = this.#ownChannel();
      if (this.#joined && this.isOpen) this.#channel.join(this);
    }
    return this.#channel.storage;
  }

  /** The session id on a koa-juggler.v1 connection (to key the application's own data), else null. */
  get session(): string | null {
    return this.#session?.id ?? null;
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
    if (this.#joined) this.#channel?.flush(this);
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

  /**
   * @internal starts the connection: a plain one at once (onConnection,
   * then its state, then its requests); an extension one waits for `hello`.
   */
  start(): void {
    if (!this.extension) {
      // Without a shared state, the connection's own is made when first used (see `state`).
      this.#channel = this.#ctx.sharedChannel;
      void this.#setUp(false);
      return;
    }
    // No hello within pingTimeout is a protocol error (PROTOCOL.md, "Hello").
    this.#helloTimer = setTimeout(() => {
      this.#helloTimer = null;
      this.#protocolError(new ProtocolError('no hello within pingTimeout'));
    }, this.#ctx.options.pingTimeout);
    this.#helloTimer.unref();
  }

  #ownChannel(): StateChannel {
    this.#ownsChannel = true;
    return this.#ctx.newChannel();
  }

  #onHello(hello: HelloMessage): void {
    if (this.#helloTimer !== null) clearTimeout(this.#helloTimer);
    this.#helloTimer = null;
    const sessions = this.#ctx.sessions!;
    const { session, resumed } = sessions.open(hello.session);
    this.#session = session;
    this.#calls = new Map();
    this.#channel = this.#ctx.sharedChannel ?? session.channel ?? this.#ownChannel();
    this.#transport.send({
      type: 'welcome',
      session: sessions.token(session),
      resumed,
      streamWindow: this.#ctx.options.streamWindow,
    });
    // Resume right after welcome, whatever autoflushDelay is: nothing, one diff, or the whole value.
    this.#join(hello.version);
    void this.#setUp(true);
  }

  async #setUp(joined: boolean): Promise<void> {
    const { onConnection } = this.#ctx.options;
    if (onConnection) {
      try {
        await onConnection(this);
      } catch (err) {
        this.#report(toError(err), 'connection');
        this.closeWith(CLOSE_INTERNAL_ERROR, 'connection setup failed');
        return;
      }
    }
    if (!this.isOpen) return;
    this.#lifecycle = 'open';
    this.#ready = true;
    // A plain connection joins after onConnection, so a per-connection state
    // set there arrives whole as its first state message.
    if (!joined) this.#join(null);
    this.#scheduler.start();
    const held = this.#heldStreams;
    this.#heldStreams = [];
    for (const open of held) this.#runStream(open);
  }

  #join(version: string | null): void {
    this.#joined = true;
    this.#channel?.join(this, version);
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
    if (!this.isOpen) return;
    let message: ClientMessage;
    try {
      message = parseClientMessage(text, this.extension);
      if (this.extension) this.#checkHelloOrder(message);
    } catch (err) {
      this.#protocolError(err as ProtocolError);
      return;
    }
    switch (message.type) {
      case 'request':
        return this.#onRequest(message);
      case 'hello':
        return this.#onHello(message);
      case 'notify':
        return this.#onClientNotify(message.name, message.data);
      case 'stream-open':
        return this.#onStreamOpen(message);
      default: {
        const call = this.#calls!.get(message.id);
        // Messages for a call that is not open crossed its end in flight: ignored.
        if (call === undefined) return;
        try {
          if (message.type === 'stream-data') call.receiveData(message.data);
          else if (message.type === 'stream-end') call.receiveEnd();
          else if (message.type === 'stream-credit') call.receiveCredit(message.n);
          else call.abort('cancelled');
        } catch (err) {
          this.#protocolError(err as ProtocolError);
        }
      }
    }
  }

  #checkHelloOrder(message: ClientMessage): void {
    const helloed = this.#session !== null;
    if (message.type === 'hello' && helloed) throw new ProtocolError('hello sent twice');
    if (message.type !== 'hello' && !helloed) throw new ProtocolError(`the first message must be hello, not ${message.type}`);
  }

  #onRequest(request: RequestMessage): void {
    if (this.#scheduler.has(request.id) || this.#calls?.has(request.id)) {
      this.#protocolError(new ProtocolError(`request id ${request.id} is already in flight`));
      return;
    }
    this.#scheduler.push({ id: request.id, run: () => this.#handle(request) });
  }

  #handle(request: RequestMessage): void | Promise<void> {
    const { id, name, data, key } = request;
    if (name === '') {
      this.#respond(id, true, data);
      return;
    }
    if (key !== undefined && this.#session !== null) {
      const keyed = this.#session.keyed;
      let outcome = keyed.get(key);
      if (outcome === undefined) {
        // The handler runs once per key; a keyed handler keeps running when its connection drops.
        outcome = Promise.resolve(this.#invoke(name, data));
        keyed.remember(key, outcome);
      }
      return outcome.then((o) => this.#respond(id, o.success, o.data));
    }
    const outcome = this.#invoke(name, data);
    if (outcome instanceof Promise) return outcome.then((o) => this.#respond(id, o.success, o.data));
    this.#respond(id, outcome.success, outcome.data);
  }

  /** Runs onRequest; plain values are answered synchronously (no promise per request on the fast path). */
  #invoke(name: string, data: JsonValue): Outcome | Promise<Outcome> {
    const { onRequest } = this.#ctx.options;
    if (!onRequest) return { success: false, data: 'this server handles no requests (no onRequest)' };
    let result: unknown;
    try {
      result = onRequest(this, name, data);
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
    if (!isJugglerError(err)) this.#report(toError(err), 'handler');
    return { success: false, data: failureData(err) };
  }

  #respond(id: number, success: boolean, data: unknown): void {
    if (!this.isOpen) return;
    this.#transport.sendText(encodeResponse(id, success, data));
    // A peer that sends requests but does not read the answers: stop reading it until it does,
    // or its answers would pile up here without bound. (The keepalive still runs: a peer that
    // takes nothing for pingDelay + pingTimeout is dropped.)
    if (this.#transport.congested && !this.#readingPausedBy.sendQueue) this.#pauseReading('sendQueue', true);
  }

  /** Reading from the socket stops while either reason holds (TCP backpressure on the peer). */
  #pauseReading(reason: 'scheduler' | 'sendQueue', paused: boolean): void {
    this.#readingPausedBy[reason] = paused;
    if (this.#readingPausedBy.scheduler || this.#readingPausedBy.sendQueue) this.#ws.pause();
    else this.#ws.resume();
  }

  #onClientNotify(name: string, data: JsonValue): void {
    const { onNotify } = this.#ctx.options;
    if (!onNotify) return;
    // Ordered with requests when they run one at a time.
    this.#scheduler.push({
      id: null,
      run: () => {
        try {
          const result = onNotify(this, name, data);
          if (result instanceof Promise) return result.catch((err) => this.#report(toError(err), 'handler'));
        } catch (err) {
          this.#report(toError(err), 'handler');
        }
      },
    });
  }

  #onStreamOpen(open: StreamOpenMessage): void {
    if (this.#scheduler.has(open.id) || this.#calls!.has(open.id) || this.#heldStreams.some((h) => h.id === open.id)) {
      this.#protocolError(new ProtocolError(`stream id ${open.id} is already in use`));
      return;
    }
    if (this.#ready) this.#runStream(open);
    else this.#heldStreams.push(open);
  }

  #runStream(open: StreamOpenMessage): void {
    const { onStream, streamWindow, maxStreams } = this.#ctx.options;
    const calls = this.#calls!;
    if (!onStream || calls.size >= maxStreams) {
      const why = onStream ? `too many open calls (at most ${maxStreams})` : 'this server handles no streams (no onStream)';
      this.#transport.send({ type: 'stream-error', id: open.id, data: why });
      return;
    }
    const call = new ServerCall(open.id, streamWindow, {
      send: (message) => {
        if (this.isOpen) this.#transport.send(message);
      },
      finished: (id) => calls.delete(id),
    });
    calls.set(open.id, call);
    void (async () => {
      try {
        const value = await onStream(this, open.name, open.data, call);
        await call.complete({ value });
      } catch (err) {
        if (call.signal.aborted) return;
        if (!isJugglerError(err)) this.#report(toError(err), 'handler');
        await call.complete({ error: failureData(err) });
      }
    })();
  }

  #protocolError(err: ProtocolError): void {
    this.#report(err, 'protocol');
    this.closeWith(err.closeCode, err.message);
  }

  #report(err: Error, kind: ErrorKind): void {
    try {
      this.#ctx.options.onError(err, { conn: this, kind });
    } catch {
      // An onError that throws must not take the connection or the server down.
    }
  }

  #teardown(): void {
    if (this.#lifecycle === 'closed') return;
    this.#lifecycle = 'closed';
    this.#ready = false;
    if (this.#helloTimer !== null) clearTimeout(this.#helloTimer);
    this.#helloTimer = null;
    this.#transport.close();
    this.#scheduler.stop();
    this.#ws.off('message', this.#onFrame);
    if (this.#calls) for (const call of [...this.#calls.values()]) call.abort('connection closed');
    this.#heldStreams = [];
    if (this.#channel !== null) {
      if (this.#joined) this.#channel.leave(this);
      if (this.#ownsChannel) this.#channel.close();
    }
    if (this.#session !== null) this.#ctx.sessions!.release(this.#session);
    this.#ctx.onClosed(this);
    this.#resolveClosed();
  }
}
