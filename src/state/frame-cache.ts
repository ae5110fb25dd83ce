/**
 * Frames built for one flush, by kind of message. Today there are two
 * kinds (plain, and with a `version` for koa-juggler.v1 connections); a
 * kind is an opaque key, so that one kind per distinct view can be added
 * without changing how frames are cached or shared.
 */

/** The kind of message a subscriber gets: subscribers of one kind share one set of frames per flush. */
export type FrameKey = string;

/**
 * Frames (or `null`: nothing to send) per kind, for one position at a time.
 *
 * @example
 * const cache = new FrameCache<Frames>()
 * cache.get('plain', 7) ?? cache.set('plain', 7, build())
 */
export class FrameCache<F> {
  readonly #frames = new Map<FrameKey, F | null>();
  #position = -1;
  // The last key looked up: members of one kind tend to come in runs, and this skips the map for them.
  #lastKey: FrameKey | null = null;
  #lastFrames: F | null = null;

  /** The frames of `key` built for `position`; `undefined` when none were. */
  get(key: FrameKey, position: number): F | null | undefined {
    if (position !== this.#position) return undefined;
    if (key === this.#lastKey) return this.#lastFrames;
    const frames = this.#frames.get(key);
    if (frames !== undefined) {
      this.#lastKey = key;
      this.#lastFrames = frames;
    }
    return frames;
  }

  /** Keeps `frames` for `key` at `position`, dropping whatever was kept for another position. */
  set(key: FrameKey, position: number, frames: F | null): F | null {
    if (position !== this.#position) {
      this.clear();
      this.#position = position;
    }
    this.#frames.set(key, frames);
    this.#lastKey = key;
    this.#lastFrames = frames;
    return frames;
  }

  /** Drops every frame kept, so shared buffers are not held past their flush. */
  clear(): void {
    // Map#clear allocates a new table even when empty, and a channel whose members all have views clears an empty cache every flush.
    if (this.#frames.size > 0) this.#frames.clear();
    this.#position = -1;
    this.#lastKey = null;
    this.#lastFrames = null;
  }
}
