/**
 * `state` messages built as JSON text around text that is JSON already (a
 * diff from the change log, the whole value), so nothing is encoded twice;
 * and the whole value's serialization, cached per version so that any
 * number of joining clients cost one `JSON.stringify`.
 */
import type { EncodedMessage } from '../transport/transport.js';
import type { Storage } from './storage.js';

const encoder = new TextEncoder();
// In Node, bytes as a Buffer: ws sends a Buffer as it is, but wraps any other Uint8Array in a new
// Buffer view on every send, which a diff sent to 5,000 sockets would do 5,000 times.
const NodeBuffer = (globalThis as { Buffer?: { from(text: string, encoding: 'utf8'): Uint8Array } }).Buffer;

/** A `state` message as JSON text around `diff` (a JSON Patch as text), with `version` if given. */
export function stateMessageText(diff: string, version: string | null): string {
  return version === null ? '{"type":"state","diff":' + diff + '}' : '{"type":"state","diff":' + diff + ',"version":"' + version + '"}';
}

/** The frames with every string turned into UTF-8 bytes, so sockets that share them do not each encode them. */
export function framesToBytes(frames: EncodedMessage): EncodedMessage {
  return frames.map((frame) => (typeof frame !== 'string' ? frame : NodeBuffer ? NodeBuffer.from(frame, 'utf8') : encoder.encode(frame)));
}

/**
 * The whole value of a storage, as text and as ready frames of a `replace`
 * at `""`, for its current position only: a change makes the next call
 * serialize again, and {@link WholeValueCache.clear} lets go of the memory.
 */
export class WholeValueCache {
  readonly #storage: Storage;
  readonly #encoded: () => void;
  #position = -1;
  #text: string | null = null;
  readonly #frames = new Map<string | null, EncodedMessage>();

  /** @param serialized called once per serialization of the whole value (a counter for tests) */
  constructor(storage: Storage, serialized: () => void) {
    this.#storage = storage;
    this.#encoded = serialized;
  }

  /** The value's JSON text at the storage's current position. */
  text(): string {
    const position = this.#storage.log.head;
    if (this.#text === null || this.#position !== position) {
      this.clear();
      this.#encoded();
      this.#text = JSON.stringify(this.#storage.data);
      this.#position = position;
    }
    return this.#text;
  }

  /**
   * The whole value as one `state` message, encoded by `encode` and cached
   * as bytes (a crowd of joiners reuses them; one socket would encode them
   * anyway).
   * @param version the version to carry, or null for a plain connection
   */
  frames(version: string | null, encode: (text: string) => EncodedMessage): EncodedMessage {
    const text = this.text();
    let frames = this.#frames.get(version);
    if (frames === undefined) {
      frames = framesToBytes(encode(stateMessageText('[{"op":"replace","path":"","value":' + text + '}]', version)));
      this.#frames.set(version, frames);
    }
    return frames;
  }

  /** Drops what is cached. */
  clear(): void {
    // Called on every change: most of the time there is nothing to drop.
    if (this.#text === null) return;
    this.#text = null;
    this.#frames.clear();
  }
}
