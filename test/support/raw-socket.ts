/**
 * WebSocket spoken by hand over a bare TCP socket, for hostile-input tests:
 * any bytes after the handshake (truncated frames, reserved bits, bad
 * opcodes, invalid UTF-8), the handshake and the first frames in one write,
 * and a cheap way to open tens of thousands of connections (no `ws` client
 * object per connection). Frames from the server are parsed just enough to
 * see text frames and the close frame.
 */
import { connect, type Socket } from 'node:net';
import { onCleanup } from './cleanup.js';
import { deferred, within } from './wait.js';

export const OP_CONTINUATION = 0x0;
export const OP_TEXT = 0x1;
export const OP_BINARY = 0x2;
export const OP_CLOSE = 0x8;
export const OP_PING = 0x9;
export const OP_PONG = 0xa;

const HANDSHAKE_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/** The bytes of an upgrade request for `path` on 127.0.0.1:`port`. */
export function handshake(port: number, path = '/ws', headers: Record<string, string> = {}): Buffer {
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  return Buffer.from(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${HANDSHAKE_KEY}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`,
    'latin1',
  );
}

/**
 * One client frame: FIN set unless `fin: false`, masked (with a zero key
 * unless `mask` is given, so the payload goes out as is), any opcode and
 * reserved bits.
 */
export function frame(payload: string | Buffer, options: { opcode?: number; fin?: boolean; rsv?: number; mask?: Buffer } = {}): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const { opcode = OP_TEXT, fin = true, rsv = 0, mask = Buffer.alloc(4) } = options;
  let header: Buffer;
  if (data.length < 126) {
    header = Buffer.from([(fin ? 0x80 : 0) | (rsv << 4) | opcode, 0x80 | data.length]);
  } else if (data.length < 65536) {
    header = Buffer.alloc(4);
    header[0] = (fin ? 0x80 : 0) | (rsv << 4) | opcode;
    header[1] = 0x80 | 126;
    header.writeUInt16BE(data.length, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = (fin ? 0x80 : 0) | (rsv << 4) | opcode;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(data.length), 2);
  }
  const masked = Buffer.from(data);
  if (mask.some((b) => b !== 0)) for (let i = 0; i < masked.length; i++) masked[i]! ^= mask[i & 3]!;
  return Buffer.concat([header, mask, masked]);
}

/** What the server did on one raw connection. */
export interface RawOutcome {
  /** HTTP status of the handshake answer (101 when upgraded). */
  status: number;
  /** Text frames received (payload as text). */
  texts: string[];
  /** The close frame's code, or null when the connection ended without one. */
  code: number | null;
  reason: string;
  /** Whether the TCP connection has ended. */
  ended: boolean;
}

/**
 * A raw connection: writes whatever it is given, parses what comes back.
 * Destroyed after the test by the root hook.
 */
export class RawSocket {
  readonly socket: Socket;
  readonly outcome: RawOutcome = { status: 0, texts: [], code: null, reason: '', ended: false };
  /** Resolves when the TCP connection has ended (either side). */
  readonly ended: Promise<RawOutcome>;
  #buffer: Buffer = Buffer.alloc(0);
  #upgraded = false;
  #textWaiters: { predicate: (text: string) => boolean; resolve: (text: string) => void }[] = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    const ended = deferred<RawOutcome>();
    this.ended = ended.promise;
    socket.on('data', (chunk) => this.#onData(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      this.outcome.ended = true;
      ended.resolve(this.outcome);
    });
  }

  /**
   * Connects to 127.0.0.1:`port` and writes the handshake followed by
   * `first` in one write (so they usually travel in one TCP segment).
   */
  static open(port: number, first: Buffer = Buffer.alloc(0), options: { path?: string; headers?: Record<string, string>; cleanup?: boolean } = {}): RawSocket {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setNoDelay(true);
    const raw = new RawSocket(socket);
    socket.write(Buffer.concat([handshake(port, options.path, options.headers), first]));
    if (options.cleanup !== false) onCleanup(() => socket.destroy());
    return raw;
  }

  /** Writes raw bytes (frames made by {@link frame}, or anything). */
  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Sends one text frame holding `text`. */
  sendText(text: string): void {
    this.socket.write(frame(text));
  }

  /** The first text frame (already received or later) that matches. */
  nextText(predicate: (text: string) => boolean, ms = 5000): Promise<string> {
    const found = this.outcome.texts.find(predicate);
    if (found !== undefined) return Promise.resolve(found);
    const d = deferred<string>();
    this.#textWaiters.push({ predicate, resolve: d.resolve });
    return within(d.promise, ms, 'a matching text frame');
  }

  /** Waits until the server has upgraded the connection. */
  async upgraded(ms = 5000): Promise<void> {
    const started = Date.now();
    while (!this.#upgraded) {
      if (this.outcome.ended) throw new Error(`connection ended before the upgrade (HTTP ${this.outcome.status})`);
      if (Date.now() - started > ms) throw new Error(`no upgrade within ${ms} ms`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  /** Waits for the TCP connection to end; fails after `ms`. */
  waitEnd(ms = 5000): Promise<RawOutcome> {
    return within(this.ended, ms, 'the end of the raw connection');
  }

  destroy(): void {
    this.socket.destroy();
  }

  #onData(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    if (!this.#upgraded) {
      const end = this.#buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = this.#buffer.subarray(0, end).toString('latin1');
      this.outcome.status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      this.#buffer = this.#buffer.subarray(end + 4);
      if (this.outcome.status !== 101) return;
      this.#upgraded = true;
    }
    for (;;) {
      const buf = this.#buffer;
      if (buf.length < 2) return;
      const opcode = buf[0]! & 0x0f;
      let length = buf[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (buf.length < 4) return;
        length = buf.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (buf.length < 10) return;
        length = Number(buf.readBigUInt64BE(2));
        offset = 10;
      }
      if (buf.length < offset + length) return;
      const payload = buf.subarray(offset, offset + length);
      this.#buffer = buf.subarray(offset + length);
      if (opcode === OP_TEXT) {
        const text = payload.toString('utf8');
        this.outcome.texts.push(text);
        this.#textWaiters = this.#textWaiters.filter((w) => {
          if (!w.predicate(text)) return true;
          w.resolve(text);
          return false;
        });
      } else if (opcode === OP_CLOSE) {
        this.outcome.code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        this.outcome.reason = payload.subarray(2).toString('utf8');
        // Answer the close, as a client should, then let the server end TCP.
        if (!this.socket.destroyed) this.socket.end(frame(payload.subarray(0, 2), { opcode: OP_CLOSE }));
      } else if (opcode === OP_PING) {
        if (!this.socket.destroyed) this.socket.write(frame(payload, { opcode: OP_PONG }));
      }
    }
  }
}

/**
 * Runs `count` raw connections, at most `concurrency` at once: each writes
 * the handshake plus `first(i)` and waits for the end. Resolves with every
 * outcome, in order.
 */
export async function rawBatch(
  port: number,
  count: number,
  first: (i: number) => Buffer,
  options: { concurrency?: number; timeout?: number } = {},
): Promise<RawOutcome[]> {
  const { concurrency = 64, timeout = 5000 } = options;
  const outcomes = new Array<RawOutcome>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const raw = RawSocket.open(port, first(i), { cleanup: false });
      try {
        outcomes[i] = await raw.waitEnd(timeout);
      } finally {
        raw.destroy();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return outcomes;
}
