/**
 * One client connection on the server: wires the socket to a
 * {@link Transport}, runs the connection's lifecycle, the koa-juggler.v1
 * hello and session, and hands messages to its parts: requests to a
 * {@link RequestDispatcher}, stream calls to {@link StreamCalls}, state to
 * a {@link ConnectionState}.
 */
import type { Duplex } from 'node:stream';
import type { WebSocket, RawData } from 'ws';
import { InvalidArgumentError, ProtocolError } from '../errors.js';
import type { JsonValue } from '../json.js';
import type { NotifyData, NotifyName, StateOf, UntypedApi } from '../protocol/api-map.js';
import { EXTENSION_PROTOCOL, parseClientMessage, type ClientMessage, type HelloMessage, type ViewMessage } from '../protocol/messages.js';
import type { Storage } from '../state/storage.js';
import {
  CLOSE_INTERNAL_ERROR,
  CLOSE_MESSAGE_TOO_BIG,
  CLOSE_NORMAL,
  CLOSE_UNSUPPORTED_DATA,
  clampReason,
  isApplicationCloseCode,
} from '../transport/close-codes.js';
import { Transport, type EncodedMessage } from '../transport/transport.js';
import { IncomingBytes, type BufferBudget } from './buffer-budget.js';
import type { CloseInfo, ConnectionConfig, ErrorKind, UpgradeRequest } from './connection-config.js';
import { ConnectionState, type StateSources } from './connection-state.js';
import { encodeResponse, toError } from './handler-result.js';
import { idInFlight, RequestDispatcher } from './request-dispatcher.js';
import type { OpenedSession, SessionHandle, Sessions } from './session-backend.js';
import { StreamCalls, streamIdInUse } from './stream-calls.js';
import { WsTransportSocket } from './ws-socket.js';
import { takeOverReads } from './socket-reads.js';
import type { ViewPath, ViewPaths } from '../state/view-paths.js';
import { answerViewRequest } from './view-request.js';

/** What one connection gets from the server that made it. */
export interface ConnectionContext {
  config: ConnectionConfig<Connection>;
  state: StateSources;
  /** The extension's sessions (null when the extension is off). */
  sessions: Sessions | null;
  user: string | null;
  remote: string;
  request: UpgradeRequest;
  /** The upgraded socket (its bytes are counted against `maxBufferedBytes` before ws reads them). */
  socket: Duplex;
  /** The server-wide bound on partial incoming messages. */
  budget: BufferBudget;
  /** Server-wide counters (read by the admin page). */
  counters: { requests: number };
  /** Runs once when the connection has closed, whatever closed it. */
  onClosed(conn: Connection): void;
}

/**
 * Where a connection is in its life. An extension connection starts at
 * `'hello'` (nothing but a hello is accepted), a plain one at `'opening'`
 * (onConnection running: requests and stream calls wait); `'ready'` runs
 * them; `'closing'` has sent its close frame; `'closed'` is torn down.
 */
type Stage = 'hello' | 'opening' | 'ready' | 'closing' | 'closed';

/** The error that flush() and notify() reject with once the connection is gone. */
function closedError(): Error {
  return new Error('connection closed');
}

/**
 * A client connected to the juggler endpoint. Created by the server; given
 * to `onConnection`, `onRequest` and the other callbacks. Typed by the API
 * map of `listen<Api>()` (README, "Types"): `state` and `notify()`.
 */
// What the state channel calls on it (StateSubscriber) is internal, so it is not declared with
// `implements`: the published types would name an interface users never see. ConnectionState's
// constructor checks the shape.
// The API map is types only: the parts and callbacks get `this as Connection<never>`, the untyped view of the same object.
export class Connection<Api = UntypedApi> {
  /** The client's address: from Forwarded / X-Forwarded-For when trusted, else the socket's. */
  readonly remote: string;
  /** The authenticated user (htpasswd user name or what `authenticate` returned), else null. */
  readonly user: string | null;
  /** URL and headers of the upgrade request. */
  readonly request: UpgradeRequest;
  /**
   * Resolves once the connection is closed, however that happened, with the
   * first close frame sent or received (`{ code: 1006, reason: '' }` when the
   * socket died without one). Never rejects.
   */
  readonly closed: Promise<CloseInfo>;
  /**
   * The application's own data about this connection: a plain object, `{}`
   * at first, never read or sent by koa-juggler. Keeps a name, a role or a
   * subscription next to the connection without a WeakMap of your own.
   *
   * @example
   * onConnection(conn) { conn.data.joinedAt = Date.now(); }
   */
  data: Record<string, unknown> = {};
  /** @internal whether koa-juggler.v1 was negotiated */
  readonly extension: boolean;

  readonly #ws: WebSocket;
  readonly #ctx: ConnectionContext;
  readonly #transport: Transport;
  // Made by the first request, notify or view message: many dashboards send none, and a dispatcher
  // with its scheduler is a dozen objects per connection, built while the joins of a burst queue up.
  #requests: RequestDispatcher<Connection> | null = null;
  readonly #streams: StreamCalls<Connection> | null;
  readonly #state: ConnectionState;
  /** @internal bytes of incomplete incoming messages (maxBufferedBytes) */
  readonly incoming: IncomingBytes;
  readonly #stopCounting: () => void;
  #stage: Stage;
  #session: SessionHandle | null = null;
  // Set at hello: a store in Redis answers it later, and what follows hello waits meanwhile.
  #helloSeen = false;
  #helloTimer: ReturnType<typeof setTimeout> | null = null;
  #sentClose: CloseInfo | null = null;
  #resolveClosed!: (info: CloseInfo) => void;

  /** @internal created by the server */
  constructor(ws: WebSocket, ctx: ConnectionContext) {
    this.#ws = ws;
    this.#ctx = ctx;
    this.remote = ctx.remote;
    this.user = ctx.user;
    this.request = ctx.request;
    this.extension = ctx.sessions !== null && ws.protocol === EXTENSION_PROTOCOL;
    this.#stage = this.extension ? 'hello' : 'opening';
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    const { config } = ctx;
    const transport = new Transport(new WsTransportSocket(ws, ctx.socket), config.transport, {
      message: (text) => this.#onMessage(text),
      lost: (reason) => this.#report(new Error(`connection lost: ${reason}`), 'socket'),
      drain: () => {
        // Called from a socket write callback: nothing may escape into ws.
        try {
          if (this.#joined) this.#state.drained();
          this.#requests?.drained();
        } catch (err) {
          this.#fail(toError(err));
        }
      },
    });
    this.#transport = transport;
    this.#streams = this.extension
      ? new StreamCalls<Connection>(config.streams, {
          conn: this as Connection<never>,
          send: (message) => {
            if (this.isOpen) transport.send(message);
          },
          isReady: () => this.#stage === 'ready',
          handlerError: (err) => this.#report(err, 'handler'),
          internalError: (err) => this.#fail(err),
        })
      : null;
    this.#state = new ConnectionState(this, ctx.state);
    const incoming = new IncomingBytes(ctx.budget, () => {
      if (this.isOpen) this.closeWith(CLOSE_MESSAGE_TOO_BIG, 'server buffers full: maxBufferedBytes');
      else this.destroy();
    });
    this.incoming = incoming;
    this.#stopCounting = takeOverReads(ctx.socket, {
      received: (bytes) => incoming.received(bytes),
      begin: () => transport.beginBatch(),
      end: () => transport.endBatch(),
    });
    ws.on('message', this.#onFrame);
    ws.on('close', this.#teardown);
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
  get state(): Storage<StateOf<Api>> {
    // Types only: the storage is the same object whatever the map says it holds.
    return this.#state.storage(this.#joined) as unknown as Storage<StateOf<Api>>;
  }

  /** The session id on a koa-juggler.v1 connection (to key the application's own data), else null. */
  get session(): string | null {
    return this.#session?.id ?? null;
  }

  /**
   * The paths this connection sees of the state now (docs/views.md), in
   * canonical order; null when it sees everything.
   */
  get view(): readonly ViewPath[] | null {
    return this.#state.view;
  }

  /**
   * Changes what this connection sees, at a flush boundary: pending diffs
   * go out first, then one diff from the old view to the new one. Before
   * the connection has its state (in `onConnection`), it sets the view it
   * starts with. Works on plain and extension connections.
   * @param paths paths of object keys (strings), or null for everything
   * @throws InvalidArgumentError naming the bad step (an array index on a path), with nothing changed
   * @example
   * conn.setView([['sites', conn.user!], ['alarms']]);
   */
  setView(paths: ViewPaths | null): void {
    if (!this.isOpen) return;
    this.#state.setView(paths, 'paths');
  }

  /** Whether the connection is open (false once closing has begun). */
  get isOpen(): boolean {
    return this.#stage !== 'closing' && this.#stage !== 'closed';
  }

  /** @internal what the admin page shows of this connection */
  get stats(): { queued: number; bytesIn: number; bytesOut: number } {
    const socket = this.#ctx.socket as Duplex & { bytesRead?: number; bytesWritten?: number };
    return { queued: this.#transport.queued, bytesIn: socket.bytesRead ?? 0, bytesOut: socket.bytesWritten ?? 0 };
  }

  // --- what the state channel calls on its subscriber (see connection-state.ts for the other side) ---

  /** @internal whether this connection's send queue is full (state diffs are held back) */
  get congested(): boolean {
    return this.#transport.congested;
  }

  /** @internal sends one state message encoded once for many connections */
  sendEncoded(frames: EncodedMessage): void {
    // A throw here reaches the channel's onError, which the server turns into a 1011 close.
    if (this.isOpen) this.#transport.sendEncoded(frames);
  }

  // --- end of the subscriber block ---

  /** @internal messages received (the metrics read it at scrape time) */
  get messagesIn(): number {
    return this.#transport.messagesReceived;
  }

  /** @internal messages sent */
  get messagesOut(): number {
    return this.#transport.messagesSent;
  }

  /** @internal stream calls open */
  get openStreams(): number {
    return this.#streams?.size ?? 0;
  }

  /**
   * Sends a notification. Waits while the send queue is full
   * (`sendQueueSize`), so a fast producer cannot grow memory without bound.
   * @throws InvalidArgumentError when `name` is not a string
   * @throws TypeError when JSON cannot carry `data`
   * @throws Error when the connection is or becomes closed
   * @example
   * await conn.notify('alarm', { level: 2 });
   */
  async notify<N extends NotifyName<Api>>(name: N, data?: NotifyData<Api, N>): Promise<void>;
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
    // On a cluster, this node's earlier writes are applied first, so the diff holds them.
    const settling = this.#state.settling();
    if (settling !== null) {
      await settling;
      if (!this.isOpen) throw closedError();
    }
    if (this.#joined) this.#state.flush();
  }

  /**
   * @internal sends the pending state diff now, synchronously (a broadcast follows it);
   * false when the connection has no state yet (an extension one before its hello)
   */
  flushNow(): boolean {
    if (!this.isOpen || !this.#joined) return false;
    this.#state.flush();
    return true;
  }

  /** @internal tells an extension connection whether its state may be behind (docs/protocol.md, "Status") */
  sendStatus(stale: boolean): void {
    if (this.extension && this.isOpen && this.#stage !== 'hello') this.#transport.send({ type: 'status', stale });
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
    this.#stage = 'closing';
    this.#transport.close();
    this.#requests?.stop();
    this.incoming.dropSegments();
    this.#sentClose = { code, reason: clampReason(reason) };
    this.#ws.close(code, this.#sentClose.reason);
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
      this.#state.useShared();
      this.#setUp();
      return;
    }
    // No hello within pingTimeout is a protocol error (docs/protocol.md, "Hello and welcome").
    this.#helloTimer = setTimeout(() => {
      this.#helloTimer = null;
      this.#protocolError(new ProtocolError('no hello within pingTimeout'));
    }, this.#ctx.config.helloTimeout);
    this.#helloTimer.unref();
  }

  /** Whether the connection is a member of its state channel: an extension one from its welcome, a plain one once ready. */
  get #joined(): boolean {
    return this.#stage === 'ready' || (this.extension && this.#stage === 'opening');
  }

  #onHello(hello: HelloMessage): void {
    if (this.#helloTimer !== null) clearTimeout(this.#helloTimer);
    this.#helloTimer = null;
    this.#helloSeen = true;
    const opened = this.#ctx.sessions!.open(hello.session);
    // On a cluster node behind the client's version, its reader catches up (bounded) first, so the resume is a diff.
    const catching = this.#state.catchingUp(hello.version);
    if (opened instanceof Promise || catching !== null) {
      Promise.all([opened, catching]).then(([o]) => this.#welcome(o, hello), (err: unknown) => this.#fail(toError(err)));
    } else this.#welcome(opened, hello);
  }

  #welcome({ session, resumed }: OpenedSession, hello: HelloMessage): void {
    const sessions = this.#ctx.sessions!;
    // Closed while a store in Redis looked the session up: nothing holds it here.
    if (!this.isOpen) return sessions.release(session);
    this.#session = session;
    this.#stage = 'opening';
    this.#state.useSession(session.channel);
    this.#transport.send({ type: 'welcome', session: sessions.token(session), resumed, streamWindow: this.#ctx.config.streamWindow });
    // A resumed session starts in the view its client was granted.
    if (!this.#initialView(session.view)) return;
    // Resume right after welcome, whatever autoflushDelay is: nothing, one diff, or the whole value.
    this.#state.join(hello.version);
    // A state starts out live: a connection that joins a stale one is told at once.
    if (this.#state.stale) this.sendStatus(true);
    this.#setUp();
  }

  /**
   * Settles the view the connection joins with: its session's granted one,
   * else the `view` option's (unless `conn.setView()` already chose one in
   * `onConnection`). A throw or a bad path from `view(conn)` closes with 1011.
   * @returns whether the connection may go on
   */
  #initialView(granted: string[][] | null | undefined): boolean {
    if (granted !== undefined) {
      this.#state.setView(granted, 'session view');
      return true;
    }
    const { view } = this.#ctx.config.views;
    if (view === null || this.#state.view !== null) return true;
    try {
      this.#state.setView(view(this as Connection<never>) ?? null, 'the value view(conn) returned');
      return true;
    } catch (err) {
      this.#fail(toError(err), 'connection');
      return false;
    }
  }

  /** The request dispatcher, made on first use: started at once if the connection is ready. */
  #dispatcher(): RequestDispatcher<Connection> {
    if (this.#requests !== null) return this.#requests;
    const ws = this.#ws;
    const requests = new RequestDispatcher<Connection>(this.#ctx.config.requests, {
      conn: this as Connection<never>,
      transport: this.#transport,
      isOpen: () => this.isOpen,
      pauseSocket: (paused) => (paused ? ws.pause() : ws.resume()),
      handlerError: (err) => this.#report(err, 'handler'),
      internalError: (err) => this.#fail(err),
      keyed: () => this.#session?.keyed ?? null,
    });
    if (this.#stage === 'ready') requests.start();
    this.#requests = requests;
    return requests;
  }

  /**
   * A client asks for a view (extension): `onView` decides; the session
   * keeps what was granted. Queued with the requests, so it runs after
   * onConnection has settled.
   */
  #onViewRequest(message: ViewMessage): void {
    this.#dispatcher().schedule(message.id, () => this.#answerView(message));
  }

  #answerView(message: ViewMessage): Promise<void> {
    const session = this.#session;
    return answerViewRequest(
      {
        conn: this as Connection<never>,
        onView: this.#ctx.config.views.onView,
        isOpen: () => this.isOpen,
        apply: (granted) => {
          this.#state.setView(granted, 'paths');
          if (session !== null) session.view = granted;
        },
        respond: (id, success, data) => this.#transport.sendText(encodeResponse(id, success, data)),
        handlerError: (err) => this.#report(err, 'handler'),
      },
      message,
    ).catch((err: unknown) => this.#fail(toError(err)));
  }

  /** Runs onConnection, then lets requests and calls run. */
  #setUp(): void {
    this.#connect().catch((err: unknown) => this.#fail(toError(err)));
  }

  async #connect(): Promise<void> {
    const { onConnection } = this.#ctx.config;
    if (onConnection) {
      try {
        await onConnection(this as Connection<never>);
      } catch (err) {
        this.#report(toError(err), 'connection');
        this.closeWith(CLOSE_INTERNAL_ERROR, 'connection setup failed');
        return;
      }
    }
    this.#ready();
  }

  #ready(): void {
    if (!this.isOpen) return;
    this.#stage = 'ready';
    // A plain connection joins after onConnection, so a per-connection state
    // set there arrives whole as its first state message.
    if (!this.extension) {
      if (!this.#initialView(undefined)) return;
      this.#state.join(null);
    }
    this.#requests?.start();
    this.#streams?.start();
  }

  readonly #onFrame = (data: RawData, isBinary: boolean): void => {
    const buffer = data as Buffer;
    try {
      if (!this.isOpen) return;
      if (isBinary) throw new ProtocolError('binary frames are not supported', { closeCode: CLOSE_UNSUPPORTED_DATA });
      this.#transport.receive(buffer.toString(), buffer.length);
    } catch (err) {
      // Whatever the frame caused: a ProtocolError is the peer's fault, anything else is ours.
      // Nothing is rethrown into ws's event emitter.
      if (err instanceof ProtocolError) this.#protocolError(err);
      else this.#fail(toError(err));
    } finally {
      this.incoming.frameDone(buffer.length, this.#transport.pendingBytes);
    }
  };

  /** @throws ProtocolError for an invalid or misplaced message (the caller closes) */
  #onMessage(text: string): void {
    if (!this.isOpen) return;
    const message = parseClientMessage(text, this.extension, this.#ctx.config.maxJsonDepth);
    if (this.extension) this.#checkHelloOrder(message);
    switch (message.type) {
      case 'request':
        this.#ctx.counters.requests++;
        if (this.#streams?.has(message.id)) throw idInFlight(message.id);
        return this.#dispatcher().request(message);
      case 'hello':
        return this.#onHello(message);
      case 'notify':
        return this.#dispatcher().notify(message.name, message.data);
      case 'stream-open':
        if (this.#requests?.has(message.id)) throw streamIdInUse(message.id);
        return this.#streams!.open(message);
      case 'view':
        if (this.#requests?.has(message.id) || this.#streams?.has(message.id)) throw idInFlight(message.id);
        return this.#onViewRequest(message);
      default:
        return this.#streams!.route(message);
    }
  }

  #checkHelloOrder(message: ClientMessage): void {
    const helloed = this.#helloSeen;
    if (message.type === 'hello' && helloed) throw new ProtocolError('hello sent twice');
    if (message.type !== 'hello' && !helloed) throw new ProtocolError(`the first message must be hello, not ${message.type}`);
  }

  #protocolError(err: ProtocolError): void {
    this.#report(err, 'protocol');
    this.closeWith(err.closeCode, err.message);
  }

  /** A bug of ours: reported, and the connection closes with 1011 (never 1002: the peer did nothing wrong). */
  #fail(err: Error, kind: ErrorKind = 'internal'): void {
    this.#report(err, kind);
    try {
      this.closeWith(CLOSE_INTERNAL_ERROR, 'internal server error');
    } catch {
      // Closing itself failed: the socket must not stay open in an unknown state.
      this.destroy();
    }
  }

  #report(err: Error, kind: ErrorKind): void {
    try {
      this.#ctx.config.onError(err, { conn: this as Connection<never>, kind });
    } catch {
      // An onError that throws must not take the connection or the server down.
    }
  }

  /** The one teardown, on ws's `close` (with the close frame received, or 1006). */
  readonly #teardown = (code: number, reason: Buffer): void => {
    if (this.#stage === 'closed') return;
    this.#stage = 'closed';
    if (this.#helloTimer !== null) clearTimeout(this.#helloTimer);
    this.#helloTimer = null;
    this.#transport.close();
    this.#requests?.stop();
    this.#ws.off('message', this.#onFrame);
    // Each part is released even when another fails, so `closed` always resolves.
    const steps = [
      () => {
        this.#stopCounting();
        this.incoming.release();
      },
      () => this.#streams?.abortAll(),
      () => this.#state.leave(),
      () => this.#session !== null && this.#ctx.sessions!.release(this.#session),
      () => this.#ctx.onClosed(this as Connection<never>),
    ];
    for (const step of steps) {
      try {
        step();
      } catch (err) {
        this.#report(toError(err), 'internal');
      }
    }
    this.#resolveClosed(this.#sentClose ?? { code, reason: reason.toString() });
  };
}
