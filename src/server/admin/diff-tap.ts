/**
 * The admin page's live stream of diffs: a member of the shared state
 * channel that joins only while someone watches, at the current version
 * (so joining sends nothing), and decodes the frames the connections get.
 * Nobody watching, it is not a member: the fan-out does not know it exists.
 */
import type { JsonValue } from '../../json.js';
import type { StateChannel, StateSubscriber } from '../../state/state-channel.js';

/** One diff as it went out. */
export interface TappedDiff {
  /** When it was sent (ms since the epoch). */
  time: number;
  version: string | null;
  diff: JsonValue[];
}

const decoder = new TextDecoder();

/** The message text of frames made by the transport's encoder (each frame starts with its header). */
function messageText(frames: readonly (string | Uint8Array)[]): string {
  let text = '';
  for (const frame of frames) text += (typeof frame === 'string' ? frame : decoder.decode(frame)).slice(1);
  return text;
}

/**
 * Forwards each diff of a state channel to its listeners while it has any.
 *
 * @example
 * const stop = tap.listen((d) => stream.write(JSON.stringify(d)));
 */
export class DiffTap {
  readonly #channel: StateChannel;
  readonly #listeners = new Set<(diff: TappedDiff) => void>();
  readonly #subscriber: StateSubscriber;

  constructor(channel: StateChannel) {
    this.#channel = channel;
    const listeners = this.#listeners;
    this.#subscriber = {
      extension: true,
      congested: false,
      sendEncoded(frames: unknown): void {
        const message = JSON.parse(messageText(frames as readonly (string | Uint8Array)[])) as { diff: JsonValue[]; version?: string };
        const tapped: TappedDiff = { time: Date.now(), version: message.version ?? null, diff: message.diff };
        for (const listener of listeners) listener(tapped);
      },
    };
  }

  /** Watchers right now. */
  get watchers(): number {
    return this.#listeners.size;
  }

  /** Adds a listener (joining the channel for the first); returns the function that removes it. */
  listen(listener: (diff: TappedDiff) => void): () => void {
    if (this.#listeners.size === 0) this.#channel.join(this.#subscriber, this.#channel.version);
    this.#listeners.add(listener);
    return () => {
      if (!this.#listeners.delete(listener)) return;
      if (this.#listeners.size === 0) this.#channel.leave(this.#subscriber);
    };
  }
}
