/**
 * A juggler client written by hand over `ws`, for tests that look at the
 * wire: raw frames in and out, every message the server sent, and how the
 * connection closed.
 */
import WebSocket from 'ws';
import { onCleanup } from './cleanup.js';
import { deferred, within } from './wait.js';

export interface RawClientOptions {
  headers?: Record<string, string>;
  protocols?: string | string[];
  /** Answer pings automatically (default true). */
  answerPings?: boolean;
  ca?: string;
}

export class RawClient {
  readonly ws: WebSocket;
  /** Every text frame received, header included. */
  readonly frames: string[] = [];
  /** Every whole message received, parsed. */
  readonly messages: any[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  #parts: string[] = [];
  #waiters: { predicate: (m: any) => boolean; resolve: (m: any) => void }[] = [];

  private constructor(ws: WebSocket, answerPings: boolean) {
    this.ws = ws;
    const closed = deferred<{ code: number; reason: string }>();
    this.closed = closed.promise;
    ws.on('close', (code, reason) => closed.resolve({ code, reason: reason.toString() }));
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => {
      const frame = isBinary ? '' : data.toString();
      this.frames.push(frame);
      const header = frame[0];
      if (header === '2' && answerPings) ws.send('3' + frame.slice(1));
      else if (header === '1') this.#parts.push(frame.slice(1));
      else if (header === '0') {
        this.#parts.push(frame.slice(1));
        const message = JSON.parse(this.#parts.join(''));
        this.#parts = [];
        this.messages.push(message);
        this.#waiters = this.#waiters.filter((w) => {
          if (!w.predicate(message)) return true;
          w.resolve(message);
          return false;
        });
      }
    });
  }

  static connect(url: string, options: RawClientOptions = {}): Promise<RawClient> {
    const ws = new WebSocket(url, options.protocols ?? [], { headers: options.headers, ca: options.ca });
    const client = new RawClient(ws, options.answerPings ?? true);
    onCleanup(() => ws.terminate());
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, headers: res.headers })));
      ws.once('error', reject);
    });
  }

  /** Sends one raw frame (header included). */
  sendFrame(frame: string | Buffer, binary = false): void {
    this.ws.send(frame, { binary });
  }

  /** Sends one message as a single segment. */
  send(message: unknown): void {
    this.ws.send('0' + JSON.stringify(message));
  }

  request(id: number, name: string, data: unknown = null): void {
    this.send({ type: 'request', id, name, data });
  }

  /** The first received message (already or later) that matches. */
  next(predicate: (m: any) => boolean, ms = 5000): Promise<any> {
    const found = this.messages.find(predicate);
    if (found) return Promise.resolve(found);
    const d = deferred<any>();
    this.#waiters.push({ predicate, resolve: d.resolve });
    return within(d.promise, ms, 'a matching message');
  }

  response(id: number, ms?: number): Promise<any> {
    return this.next((m) => m.type === 'response' && m.id === id, ms);
  }

  /** Waits for the close; fails the test if it does not come within `ms`. */
  waitClose(ms = 5000): Promise<{ code: number; reason: string }> {
    return within(this.closed, ms, 'the connection close');
  }

  close(): void {
    this.ws.close();
  }
}

