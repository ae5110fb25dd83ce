/**
 * The little the client needs from a WebSocket, and the browser adapter
 * over the DOM `WebSocket` (which hands over text frames as strings only).
 * The Node adapter over `ws` is in node-socket.ts, so that this file, and
 * everything the browser bundle pulls in, stays free of `node:*` and `ws`.
 */
import { ConnectError, type ProtocolError } from '../errors.js';
import { CLOSE_NORMAL, isApplicationCloseCode } from '../transport/close-codes.js';
import type { TransportSocket } from '../transport/transport.js';
import type { BasicAuth, TlsOptions } from './options.js';

/** What an open socket reports to its owner. */
export interface SocketHandlers {
  /** A text frame arrived; `byteLength` is its size in UTF-8 where the socket knows it. */
  message(frame: string, byteLength?: number): void;
  /** A binary frame arrived (not juggler: the client closes with 1003). */
  binary(): void;
  /** The socket itself found the server's input invalid (too large, bad UTF-8) and is closing with `err.closeCode`. `close` follows. */
  invalid(err: ProtocolError): void;
  /** The socket closed; 1006 when no close frame arrived. `cause` is the socket error that ended it, if any. */
  close(code: number, reason: string, cause?: Error): void;
}

/** An open WebSocket, as the client uses it. */
export interface ClientSocket extends TransportSocket {
  /** The subprotocol the server selected; '' for none. */
  readonly protocol: string;
  /** Starts delivering events; those that happened since open are delivered first, in order. */
  listen(handlers: SocketHandlers): void;
}

/** What an opener needs to know. */
export interface SocketOptions {
  /** Subprotocols to offer. */
  protocols: readonly string[];
  /** Largest message accepted, in bytes (a socket that can cap frames does it early). */
  maxMessageSize: number;
  auth: BasicAuth | null;
  tls: TlsOptions | null;
  /** per-message deflate (RFC 7692) to offer, or null (only Node's opener can choose). */
  compression: { threshold: number } | null;
}

/**
 * Opens a WebSocket: resolves once it is open, rejects with a ConnectError
 * saying why it could not. When `signal` aborts before open, rejects with
 * the signal's reason if it is a ConnectError, else kind `'aborted'`.
 */
export type OpenSocket = (url: string, options: SocketOptions, signal: AbortSignal) => Promise<ClientSocket>;

/**
 * Holds a socket's events until its owner listens, so that frames arriving
 * between open and the owner's first turn are neither lost nor reordered.
 */
export class SocketEvents implements SocketHandlers {
  #handlers: SocketHandlers | null = null;
  #queue: ((handlers: SocketHandlers) => void)[] = [];
  #closed = false;

  listen(handlers: SocketHandlers): void {
    if (this.#handlers !== null) throw new Error('socket already has a listener');
    this.#handlers = handlers;
    const queue = this.#queue;
    this.#queue = [];
    for (const deliver of queue) deliver(handlers);
  }

  message(frame: string, byteLength?: number): void {
    if (!this.#closed) this.#emit((h) => h.message(frame, byteLength));
  }

  binary(): void {
    if (!this.#closed) this.#emit((h) => h.binary());
  }

  invalid(err: ProtocolError): void {
    if (!this.#closed) this.#emit((h) => h.invalid(err));
  }

  /** Delivered once; nothing is delivered after it. */
  close(code: number, reason: string, cause?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#emit((h) => h.close(code, reason, cause));
  }

  #emit(deliver: (handlers: SocketHandlers) => void): void {
    if (this.#handlers === null) this.#queue.push(deliver);
    else deliver(this.#handlers);
  }
}

/** The error an attempt rejects with when its signal aborts. */
export function abortError(signal: AbortSignal, url: string): ConnectError {
  const reason: unknown = signal.reason;
  if (reason instanceof ConnectError) return reason;
  return new ConnectError(url, 'aborted', `connecting to ${url} was aborted`, { cause: reason });
}

/** Why the browser build cannot connect where there is no `WebSocket`, and what to use instead. */
const NO_WEBSOCKET =
  'this environment has no WebSocket, so the browser build of koa-juggler/client cannot connect ' +
  '(an old browser, or Node.js before 22: there, import the Node entry of koa-juggler/client, which uses ws)';

/** The DOM WebSocket constructor, or anything shaped like it. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocket;

/**
 * The opener over the DOM `WebSocket` (or `WebSocketImpl`, which tests use
 * to stand in for a browser's).
 *
 * A browser does not say why a handshake failed (refused, HTTP 401 or 404,
 * TLS): every failure is a ConnectError of kind `'network'`. It only lets
 * a page close with 1000 or 3000–4999, so a protocol-error close (1002,
 * 1003, 1009...) goes out as 1000 with the code at the start of the reason.
 * It cannot destroy a socket either: `destroy()` starts a close and the
 * client stops listening at once.
 */
export function browserSocketOpener(WebSocketImpl?: WebSocketConstructor): OpenSocket {
  return (url, options, signal) =>
    new Promise<ClientSocket>((resolve, reject) => {
      const Impl = WebSocketImpl ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
      if (typeof Impl !== 'function') {
        // No later attempt can do better: kind 'unsupported' makes connect() fail and reconnect() give up at once.
        reject(new ConnectError(url, 'unsupported', NO_WEBSOCKET));
        return;
      }
      if (signal.aborted) {
        reject(abortError(signal, url));
        return;
      }
      let ws: WebSocket;
      try {
        ws = new Impl(url, [...options.protocols]);
      } catch (err) {
        reject(new ConnectError(url, 'network', `cannot open ${url}: ${(err as Error).message}`, { cause: err }));
        return;
      }
      ws.binaryType = 'arraybuffer';
      const events = new SocketEvents();
      let opened = false;
      let settled = false;
      const failBeforeOpen = (err: ConnectError): void => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        reject(err);
      };
      const onAbort = (): void => {
        failBeforeOpen(abortError(signal, url));
        ws.close();
      };
      signal.addEventListener('abort', onAbort, { once: true });

      const socket: ClientSocket = {
        get protocol() {
          return ws.protocol;
        },
        send(frame, done) {
          ws.send(frame as string);
          // The DOM gives no write callback; count the frame as written once handed over.
          if (done) queueMicrotask(() => done());
        },
        close(code, reason) {
          if (isApplicationCloseCode(code) || (code >= 3000 && code <= 3999)) ws.close(code, reason);
          else ws.close(CLOSE_NORMAL, `(${code}) ${reason}`.slice(0, 120));
        },
        destroy() {
          ws.close();
        },
        listen(handlers) {
          events.listen(handlers);
        },
      };

      ws.onopen = () => {
        if (settled) return;
        opened = true;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        resolve(socket);
      };
      ws.onmessage = (event: MessageEvent) => {
        if (typeof event.data === 'string') events.message(event.data);
        else events.binary();
      };
      ws.onerror = () => {
        // After open, the close event that follows says everything a page can know.
        if (!opened) {
          failBeforeOpen(
            new ConnectError(
              url,
              'network',
              `could not connect to ${url} (a browser does not say why: refused, an HTTP answer such as 401 or 404, or TLS)`,
            ),
          );
        }
      };
      ws.onclose = (event: CloseEvent) => {
        if (opened) {
          events.close(event.code, event.reason);
          return;
        }
        failBeforeOpen(
          new ConnectError(url, 'network', `could not connect to ${url} (closed with ${event.code} before open; a browser does not say why)`),
        );
      };
    });
}
