/**
 * A juggler server spoken by hand over a bare `ws` WebSocketServer, for
 * client tests: it records every frame and message the client sends and
 * can send anything back, malformed input included (bad headers, invalid
 * JSON, diffs that do not apply, oversized messages, silence, any close
 * code). Closed after each test by the root hook.
 */
import { createServer as createHttpServer, STATUS_CODES, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { onCleanup } from './cleanup.js';

// Messages from the client are inspected as plain JSON; `any` keeps the assertions short.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface RawServerOptions {
  /** Port to listen on (to restart a server on the same port); 0 picks one. */
  port?: number;
  /** An HTTP status to refuse the upgrade with (401 comes with WWW-Authenticate), or null/undefined to accept. */
  refuse?: (req: IncomingMessage) => number | null | undefined;
  /** Answer the client's pings. @default true */
  autoPong?: boolean;
  /** Answer each request: return the response's `success` and `data`, or undefined to leave it unanswered. */
  onRequest?: (conn: RawConnection, request: { id: number; name: string; data: Json }) => { success: boolean; data: Json } | undefined | void;
  /** Called with each new connection, before any of its frames. */
  onConnection?: (conn: RawConnection) => void;
  /** Serve wss: with this key and certificate. */
  tls?: { key: string; cert: string };
  /**
   * The subprotocol to select when the client offers it (e.g.
   * `'koa-juggler.v1'`, to speak the extension by hand), or null to select
   * none, as Python's hat-juggler does (ws's own default would select the
   * first one offered).
   * @default null
   */
  protocol?: string | null;
}

/** Waits for items of a growing list, in order, each with a bounded wait. */
class Cursor<T> {
  readonly items: T[] = [];
  #read = 0;
  #waiters: (() => void)[] = [];

  push(item: T): void {
    this.items.push(item);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  async next(what: string, timeout: number): Promise<T> {
    const deadline = Date.now() + timeout;
    while (this.#read >= this.items.length) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${timeout} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.items[this.#read++]!;
  }
}

/** One client connection, seen from the server. */
export class RawConnection {
  readonly ws: WebSocket;
  /** The upgrade request (headers: authorization, sec-websocket-protocol...). */
  readonly request: IncomingMessage;
  /** Resolves with the close code and reason once the socket is closed (1006 when it just dropped). */
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly #frames = new Cursor<string>();
  readonly #messages = new Cursor<Json>();
  #partial = '';

  constructor(ws: WebSocket, request: IncomingMessage, options: RawServerOptions) {
    this.ws = ws;
    this.request = request;
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const frame = data.toString();
      this.#frames.push(frame);
      const header = frame[0];
      if (header === '2' && options.autoPong !== false) this.send('3' + frame.slice(1));
      if (header !== '0' && header !== '1') return;
      this.#partial += frame.slice(1);
      if (header === '1') return;
      const message = JSON.parse(this.#partial);
      this.#partial = '';
      this.#messages.push(message);
      if (message.type === 'request' && options.onRequest) {
        const answer = options.onRequest(this, message);
        if (answer) this.respond(message.id, answer.success, answer.data);
      }
    });
  }

  /** Every text frame received, header included. */
  get frames(): readonly string[] {
    return this.#frames.items;
  }

  /** Every whole message received, parsed. */
  get messages(): readonly Json[] {
    return this.#messages.items;
  }

  /** The next message not yet read by this method. */
  nextMessage(timeout = 3000): Promise<Json> {
    return this.#messages.next('message from the client', timeout);
  }

  /** The next frame (pings included) not yet read by this method. */
  nextFrame(timeout = 3000): Promise<string> {
    return this.#frames.next('frame from the client', timeout);
  }

  /** Sends one raw text frame, exactly as given. */
  send(frame: string): void {
    this.ws.send(frame);
  }

  /**
   * Sends a JSON message in segments of at most `segmentSize` characters,
   * cut before a surrogate pair rather than through it (a lone half would
   * reach the client as U+FFFD). Send frames by hand to cut anywhere.
   */
  sendMessage(value: Json, segmentSize = Infinity): void {
    const text = JSON.stringify(value);
    let pos = 0;
    while (text.length - pos > segmentSize) {
      let end = pos + segmentSize;
      const last = text.charCodeAt(end - 1);
      if (last >= 0xd800 && last <= 0xdbff && end - 1 > pos) end -= 1;
      this.send('1' + text.slice(pos, end));
      pos = end;
    }
    this.send('0' + text.slice(pos));
  }

  sendState(diff: Json): void {
    this.sendMessage({ type: 'state', diff });
  }

  sendNotify(name: string, data: Json): void {
    this.sendMessage({ type: 'notify', name, data });
  }

  respond(id: number, success: boolean, data: Json): void {
    this.sendMessage({ type: 'response', id, success, data });
  }

  close(code?: number, reason?: string): void {
    this.ws.close(code, reason);
  }

  terminate(): void {
    this.ws.terminate();
  }
}

export interface RawServer {
  readonly port: number;
  /** ws:// (or wss://) address of the WebSocket endpoint. */
  readonly url: string;
  /** Accepted connections, oldest first. */
  readonly connections: readonly RawConnection[];
  /**
   * Handshakes that offered subprotocols of which this server selected
   * none. RFC 6455 makes the client fail such a connection at once (ours
   * then retries without the offer), so they are kept here, not in
   * `connections`.
   */
  readonly declined: readonly RawConnection[];
  /** Every upgrade request seen, refused ones included. */
  readonly upgrades: readonly IncomingMessage[];
  /** The next accepted connection not yet read by this method. */
  nextConnection(timeout?: number): Promise<RawConnection>;
  /** Stops listening; open connections are closed with `code` (a close frame), or dropped when `code` is omitted. */
  close(code?: number, reason?: string): Promise<void>;
}

/** Starts a hand-driven juggler server on 127.0.0.1. */
export async function startRawServer(options: RawServerOptions = {}): Promise<RawServer> {
  const http: HttpServer = options.tls ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }) : createHttpServer();
  const selected = options.protocol ?? null;
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => (selected !== null && offered.has(selected) ? selected : false),
  });
  const connections = new Cursor<RawConnection>();
  const declined: RawConnection[] = [];
  const upgrades: IncomingMessage[] = [];
  const sockets = new Set<Socket>();
  http.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  http.on('request', (_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' }).end('WebSocket only\n');
  });
  http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    upgrades.push(req);
    const status = options.refuse?.(req);
    if (status) {
      const extra = status === 401 ? 'WWW-Authenticate: Basic realm="raw"\r\n' : '';
      socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n${extra}Connection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const conn = new RawConnection(ws, req, options);
      if (req.headers['sec-websocket-protocol'] !== undefined && ws.protocol === '') {
        declined.push(conn);
        return;
      }
      options.onConnection?.(conn);
      connections.push(conn);
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, '127.0.0.1', () => {
      http.off('error', reject);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;
  let closing: Promise<void> | null = null;
  const server: RawServer = {
    port,
    url: `${options.tls ? 'wss' : 'ws'}://127.0.0.1:${port}/ws`,
    get connections() {
      return connections.items;
    },
    declined,
    upgrades,
    nextConnection: (timeout = 3000) => connections.next('connection', timeout),
    close(code?: number, reason?: string) {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => http.close(() => resolve()));
        for (const conn of declined) conn.terminate();
        for (const conn of connections.items) {
          if (code === undefined) conn.terminate();
          else conn.close(code, reason);
        }
        await Promise.all([...connections.items, ...declined].map((conn) => conn.closed));
        for (const socket of sockets) socket.destroy();
        await stopped;
      })();
      return closing;
    },
  };
  onCleanup(() => server.close());
  return server;
}
