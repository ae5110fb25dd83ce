/**
 * One juggler transport over one WebSocket, shared by the server connection
 * and the client: framing both ways, answers to pings, the keepalive, and
 * (through a {@link SendQueue}) the count of messages handed to the socket
 * but not yet written (what `sendQueueSize` bounds). Knows nothing of `ws`
 * or the DOM: the owner adapts its socket to {@link TransportSocket} and
 * feeds frames to {@link Transport.receive}.
 */
import { InvalidArgumentError } from '../errors.js';
import { encodeJson } from '../json.js';
import { HEADER_LAST, HEADER_PING, HEADER_PONG, Reassembler, segment } from './framing.js';
import { KeepaliveTimer } from './keepalive.js';
import { SendQueue } from './send-queue.js';

/** The little a transport needs from a WebSocket. */
export interface TransportSocket {
  /** Sends one text frame; `done` runs once it is written (or failed). */
  send(frame: string | Uint8Array, done?: (err?: Error) => void): void;
  /** Starts the closing handshake. */
  close(code: number, reason: string): void;
  /** Destroys the socket at once, without a handshake. */
  destroy(): void;
  /**
   * Bytes handed over and not yet written. When given, a message sent to a
   * socket that keeps up goes without a write callback (see send-queue.ts).
   */
  bufferedAmount?(): number;
  /**
   * Writes out at once what the socket holds back (a server corks its
   * socket while it handles one read): a pong must not wait behind the
   * handlers of the messages read with its ping.
   */
  flush?(): void;
}

export interface TransportOptions {
  /** Longest segment payload in UTF-16 units. */
  maxSegmentSize: number;
  /** Largest incoming message, in bytes (UTF-16 units where bytes are unknown). */
  maxMessageSize: number;
  /** Ping after this long without receiving anything; null turns the keepalive off. */
  pingDelay: number | null;
  /** Drop the connection when nothing arrives this long after a ping. */
  pingTimeout: number;
  /** Messages handed to the socket and not yet written before writers should wait. */
  sendQueueSize: number;
  /** 'segmented' (juggler) or 'plain', the legacy framing (seed-era: bare JSON, no headers, no pings). */
  framing: 'segmented' | 'plain';
}

export interface TransportHandlers {
  /** A whole message arrived (its JSON text). */
  message(text: string): void;
  /** The keepalive gave up on a silent peer; the socket has been destroyed. */
  lost(reason: string): void;
  /** The send queue was full and now has room again. */
  drain?(): void;
}

// Transports made with one options object (a server's connections, built
// from one config) share one keepalive timer; a client's has its own.
const keepaliveTimers = new WeakMap<TransportOptions, KeepaliveTimer>();

function keepaliveTimer(options: TransportOptions): KeepaliveTimer {
  let timer = keepaliveTimers.get(options);
  if (timer === undefined) {
    timer = new KeepaliveTimer(Math.min(options.pingDelay!, options.pingTimeout));
    keepaliveTimers.set(options, timer);
  }
  return timer;
}

/** A pre-encoded message: its frames, header included, ready for any number of sockets. */
export type EncodedMessage = readonly (string | Uint8Array)[];

// Not declared `implements KeepaliveMember`: keepaliveDue is internal, so the published
// types leave it out and such a clause would not hold there.
export class Transport {
  /** Whole messages received (pings and pongs aside): read by the server's metrics at scrape time. */
  messagesReceived = 0;
  /** Whole messages handed to the socket (pings and pongs aside). */
  messagesSent = 0;
  readonly #socket: TransportSocket;
  readonly #options: TransportOptions;
  readonly #handlers: TransportHandlers;
  readonly #reassembler: Reassembler;
  readonly #legacyFraming: boolean;
  readonly #queue: SendQueue;
  #closed = false;
  #lastRx = Date.now();
  #pingSentAt = 0;
  readonly #keepalive: KeepaliveTimer | null;
  #paused = false;

  constructor(socket: TransportSocket, options: TransportOptions, handlers: TransportHandlers) {
    this.#socket = socket;
    this.#options = options;
    this.#handlers = handlers;
    this.#legacyFraming = options.framing === 'plain';
    this.#reassembler = new Reassembler(options.maxMessageSize);
    this.#queue = new SendQueue(socket, options.sendQueueSize, () => this.#handlers.drain?.());
    this.#keepalive = this.#legacyFraming || options.pingDelay === null ? null : keepaliveTimer(options);
    this.#keepalive?.add(this, this.#lastRx + options.pingDelay!);
  }

  /** Messages handed to the socket and not yet written. */
  get queued(): number {
    return this.#queue.size;
  }

  /** Payload bytes held of a message still being received (what `maxBufferedBytes` counts). */
  get pendingBytes(): number {
    return this.#reassembler.pendingSize;
  }

  /** Whether the send queue is full: writers that can wait should. */
  get congested(): boolean {
    return this.#queue.full;
  }

  /**
   * Takes one received text frame. Pings are answered here, at once,
   * whatever the owner is doing.
   * @throws ProtocolError for a bad frame or an oversized message
   */
  receive(frame: string, byteLength?: number): void {
    this.#lastRx = Date.now();
    if (this.#legacyFraming) {
      if (byteLength !== undefined && byteLength > this.#options.maxMessageSize) {
        // ws enforces the cap from the frame header already; this covers sockets that do not.
        this.#reassembler.push('0' + frame, byteLength + 1);
      }
      this.messagesReceived++;
      this.#handlers.message(frame);
      return;
    }
    const received = this.#reassembler.push(frame, byteLength);
    switch (received.kind) {
      case 'message':
        this.messagesReceived++;
        this.#handlers.message(received.text);
        return;
      case 'ping':
        if (this.#closed) return;
        this.#socket.send(HEADER_PONG + received.payload);
        this.#socket.flush?.();
        return;
      default:
        return;
    }
  }

  /** Encodes and sends one message. @throws TypeError when JSON cannot carry `value` */
  send(value: unknown): void {
    this.sendText(encodeJson(value));
  }

  /** Sends one message given as JSON text. */
  sendText(text: string): void {
    if (this.#closed) return;
    if (this.#legacyFraming) {
      this.messagesSent++;
      this.#queue.send(text);
      return;
    }
    if (text.length <= this.#options.maxSegmentSize) {
      // One segment, the common case: no frames array.
      this.messagesSent++;
      this.#queue.send(HEADER_LAST + text);
      return;
    }
    this.sendEncoded(segment(text, this.#options.maxSegmentSize));
  }

  /** Sends a message encoded once by {@link encodeMessage}, e.g. one diff for many connections. */
  sendEncoded(frames: EncodedMessage): void {
    if (this.#closed) return;
    this.messagesSent++;
    const last = frames.length - 1;
    for (let i = 0; i < last; i++) this.#socket.send(frames[i]!);
    this.#queue.send(frames[last]!);
  }

  /**
   * Starts a batch: the owner holds the socket's writes (a corked socket)
   * until {@link Transport.endBatch}, so the send queue must not take the
   * batch's own bytes for a socket that does not keep up.
   */
  beginBatch(): void {
    this.#queue.beginBatch();
  }

  /** Ends a batch once its writes were released to the socket. */
  endBatch(): void {
    this.#queue.endBatch();
  }

  /** Resolves once the send queue has room (at once if it has). Writers resume in arrival order. */
  waitWritable(): Promise<void> {
    return this.#queue.waitRoom();
  }

  /**
   * Stops counting silence while the owner holds back reading (TCP
   * backpressure): a paused peer is not a dead one.
   */
  setPaused(paused: boolean): void {
    this.#paused = paused;
    if (!paused) this.#lastRx = Date.now();
  }

  /** Stops timers and releases waiting writers. The owner closes the socket. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#keepalive?.delete(this);
    this.#reassembler.reset();
    this.#queue.close();
  }

  /** @internal the keepalive's step, called by its timer: pings or gives up when due, and says when to look again */
  keepaliveDue(now: number): number {
    if (this.#closed) return Number.POSITIVE_INFINITY;
    const pingDelay = this.#options.pingDelay!;
    const pingTimeout = this.#options.pingTimeout;
    if (this.#paused) {
      this.#lastRx = now;
      return now + pingDelay;
    }
    if (this.#pingSentAt !== 0) {
      if (this.#lastRx >= this.#pingSentAt) {
        this.#pingSentAt = 0;
      } else if (now - this.#pingSentAt >= pingTimeout) {
        this.close();
        this.#socket.destroy();
        this.#handlers.lost(`no answer within ${pingTimeout} ms of a ping`);
        return Number.POSITIVE_INFINITY;
      } else {
        return this.#pingSentAt + pingTimeout;
      }
    }
    if (now - this.#lastRx >= pingDelay) {
      this.#pingSentAt = now;
      this.#socket.send(HEADER_PING);
      return now + pingTimeout;
    }
    return this.#lastRx + pingDelay;
  }
}

/** Encodes a message once into frames that any number of transports with the same options can send. */
export function encodeMessage(text: string, options: Pick<TransportOptions, 'maxSegmentSize' | 'framing'>): EncodedMessage {
  if (options.framing === 'plain') return [text];
  return segment(text, options.maxSegmentSize);
}

const encoder = new TextEncoder();
// In Node, bytes as a Buffer: ws sends a Buffer as it is, but wraps any other Uint8Array in a new
// Buffer view on every send, which a diff sent to 5,000 sockets would do 5,000 times.
const NodeBuffer = (globalThis as { Buffer?: { from(text: string, encoding: 'utf8'): Uint8Array } }).Buffer;

/** The frames with every string turned into UTF-8 bytes, so sockets that share them do not each encode them. */
export function framesToBytes(frames: EncodedMessage): EncodedMessage {
  return frames.map((frame) => (typeof frame !== 'string' ? frame : NodeBuffer ? NodeBuffer.from(frame, 'utf8') : encoder.encode(frame)));
}

/**
 * The encoding a state channel is given: {@link encodeMessage} with these
 * options, as bytes when many sockets share the frames.
 * @throws InvalidArgumentError naming the bad option
 * @example
 * new StateChannel(storage, { autoflushDelay: 0, encode: messageEncoder({ maxSegmentSize: 65536, framing: 'segmented' }) })
 */
export function messageEncoder(options: Pick<TransportOptions, 'maxSegmentSize' | 'framing'>): (text: string, shared: boolean) => EncodedMessage {
  const { maxSegmentSize, framing } = options;
  if (!Number.isSafeInteger(maxSegmentSize) || maxSegmentSize < 2) throw new InvalidArgumentError('options.maxSegmentSize', 'an integer of at least 2', maxSegmentSize);
  if (framing !== 'segmented' && framing !== 'plain') throw new InvalidArgumentError('options.framing', "'segmented' or 'plain'", framing);
  const encoding = { maxSegmentSize, framing };
  return (text, shared) => (shared ? framesToBytes(encodeMessage(text, encoding)) : encodeMessage(text, encoding));
}
