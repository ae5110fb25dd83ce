/**
 * `state` messages built as JSON text around text that is JSON already (a
 * diff from the change log, the whole value), so nothing is encoded twice;
 * and the whole value's serialization, cached per position so that any
 * number of joining clients cost one `JSON.stringify`.
 */
import type { JsonValue } from '../json.js';

/** A `state` message as JSON text around `diff` (a JSON Patch as text), with `version` if given. */
export function stateMessageText(diff: string, version: string | null): string {
  return version === null ? '{"type":"state","diff":' + diff + '}' : '{"type":"state","diff":' + diff + ',"version":"' + version + '"}';
}

/**
 * The whole value of a storage, as text and as ready frames of a `replace`
 * at `""`, for its current position only: a change makes the next call
 * serialize again, and {@link WholeValueCache.clear} lets go of the memory.
 *
 * @typeParam F the frames type of the injected encoding (opaque here)
 */
export class WholeValueCache<F> {
  readonly #value: () => JsonValue;
  readonly #head: () => number;
  readonly #serialized: (length: number) => void;
  #position = -1;
  #text: string | null = null;
  readonly #frames = new Map<string | null, F>();

  /**
   * @param value the storage's current value
   * @param head the storage's current position
   * @param serialized called once per serialization of the whole value, with its length (counters)
   */
  constructor(value: () => JsonValue, head: () => number, serialized: (length: number) => void) {
    this.#value = value;
    this.#head = head;
    this.#serialized = serialized;
  }

  /** The value's JSON text at the storage's current position. */
  text(): string {
    const position = this.#head();
    if (this.#text === null || this.#position !== position) {
      this.clear();
      this.#text = JSON.stringify(this.#value());
      this.#position = position;
      this.#serialized(this.#text.length);
    }
    return this.#text;
  }

  /**
   * The whole value as one `state` message, encoded by `encode` for many
   * recipients and cached (a crowd of joiners reuses the frames).
   * @param version the version to carry, or null for a plain connection
   */
  frames(version: string | null, encode: (text: string) => F): F {
    const text = this.text();
    let frames = this.#frames.get(version);
    if (frames === undefined) {
      frames = encode(stateMessageText('[{"op":"replace","path":"","value":' + text + '}]', version));
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
