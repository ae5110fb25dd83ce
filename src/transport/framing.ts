/**
 * Juggler segmented framing (docs/protocol.md, "Framing"): pure functions, no
 * I/O. A message is a JSON string cut into segments of at most
 * `maxSegmentSize` UTF-16 units, each prefixed by a one-character header.
 */
import { ProtocolError } from '../errors.js';
import { CLOSE_MESSAGE_TOO_BIG } from './close-codes.js';

export const HEADER_LAST = '0';
export const HEADER_MORE = '1';
export const HEADER_PING = '2';
export const HEADER_PONG = '3';

/**
 * Cuts `text` into frames (header included). Never splits a UTF-16
 * surrogate pair: a cut that would fall between the two halves moves one
 * unit earlier, so that segment is one shorter.
 */
export function segment(text: string, maxSegmentSize: number): string[] {
  if (text.length <= maxSegmentSize) return [HEADER_LAST + text];
  const frames: string[] = [];
  let pos = 0;
  while (pos < text.length) {
    let end = pos + maxSegmentSize;
    if (end >= text.length) {
      frames.push(HEADER_LAST + text.slice(pos));
      break;
    }
    const before = text.charCodeAt(end - 1);
    // A high surrogate at the end of the segment: its low half would start
    // the next one. Cut before it instead (unless the segment would be empty).
    if (before >= 0xd800 && before <= 0xdbff && end - 1 > pos) end -= 1;
    frames.push(HEADER_MORE + text.slice(pos, end));
    pos = end;
  }
  return frames;
}

/** What one received frame turned out to be. */
export type Received =
  | { kind: 'message'; text: string }
  | { kind: 'ping'; payload: string }
  | { kind: 'pong' }
  | { kind: 'partial' };

const PARTIAL: Received = { kind: 'partial' };
// Payloads shorter than this are joined in runs of SMALL_RUN before being kept (see Reassembler).
const SMALL_SEGMENT = 256;
const SMALL_RUN = 1024;
const PONG: Received = { kind: 'pong' };

/**
 * Reassembles segments into messages, capping the total size. On any error
 * the partial message is dropped at once, so a peer cannot make us hold
 * memory by sending a bad or endless message.
 */
export class Reassembler {
  #parts: string[] = [];
  // Short payloads wait here and enter #parts joined, SMALL_RUN at a time:
  // each kept string costs tens of bytes of its own, so a peer sending
  // one-character segments would otherwise make us hold ~20 times the
  // bytes maxMessageSize allows.
  #small: string[] = [];
  #size = 0;
  readonly #maxMessageSize: number;

  /** @param maxMessageSize largest message payload (all its segments together), in bytes of UTF-8 */
  constructor(maxMessageSize: number) {
    this.#maxMessageSize = maxMessageSize;
  }

  /** Payload bytes held for a message still being received. */
  get pendingSize(): number {
    return this.#size;
  }

  /**
   * Takes one frame.
   * @param byteLength the frame's size in bytes when the caller knows it
   *   (the server does, from the WebSocket frame); else its UTF-16 length
   * @throws ProtocolError for an empty frame, an unknown header, or a
   *   message over the cap (close code 1009)
   */
  push(frame: string, byteLength = frame.length): Received {
    const header = frame.charAt(0);
    if (header === HEADER_LAST || header === HEADER_MORE) {
      // An empty continuation counts as one byte, so an endless run of them meets the cap too.
      const size = this.#size + (header === HEADER_MORE ? Math.max(byteLength - 1, 1) : byteLength - 1);
      if (size > this.#maxMessageSize) {
        this.reset();
        throw new ProtocolError(`message larger than maxMessageSize (${this.#maxMessageSize} bytes)`, {
          code: 'ERR_MESSAGE_TOO_BIG',
          closeCode: CLOSE_MESSAGE_TOO_BIG,
        });
      }
      const payload = frame.slice(1);
      if (header === HEADER_MORE) {
        this.#keep(payload);
        this.#size = size;
        return PARTIAL;
      }
      if (this.#parts.length === 0 && this.#small.length === 0) return { kind: 'message', text: payload };
      this.#keep(payload);
      if (this.#small.length > 0) this.#parts.push(this.#small.join(''));
      const text = this.#parts.join('');
      this.reset();
      return { kind: 'message', text };
    }
    if (header === HEADER_PING) return { kind: 'ping', payload: frame.slice(1) };
    if (header === HEADER_PONG) return PONG;
    this.reset();
    if (frame.length === 0) throw new ProtocolError('empty frame (a segment needs a header character)');
    throw new ProtocolError(`unknown frame header ${JSON.stringify(header)} (expected 0, 1, 2 or 3)`);
  }

  /** Drops any partial message. */
  reset(): void {
    this.#parts = [];
    this.#small = [];
    this.#size = 0;
  }

  #keep(payload: string): void {
    if (payload.length >= SMALL_SEGMENT) {
      if (this.#small.length > 0) this.#parts.push(this.#small.join(''));
      this.#small = [];
      this.#parts.push(payload);
    } else if (payload.length > 0) {
      this.#small.push(payload);
      if (this.#small.length === SMALL_RUN) {
        this.#parts.push(this.#small.join(''));
        this.#small = [];
      }
    }
  }
}
