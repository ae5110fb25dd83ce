/**
 * The options of a {@link StateChannel}: one object, with its defaults
 * merged and validated in one place.
 */
import { InvalidArgumentError } from '../errors.js';
import { reportCallbackError } from './report-error.js';
import type { StateChannel, StateSubscriber } from './state-channel.js';

/** Default of {@link StateChannelOptions.historySize}. */
export const DEFAULT_HISTORY_SIZE = 64;

/** Options of a {@link StateChannel}: one object, validated once. */
export interface StateChannelOptions {
  /**
   * A throttle: a positive delay sends the changes at most this long after
   * the first unsent one (later changes never postpone it). 0 sends each
   * change at once, on its own. null sends only on {@link StateChannel.flush}.
   */
  autoflushDelay: number | null;
  /** Longest segment payload in UTF-16 units (as the transport's). */
  maxSegmentSize: number;
  /** The framing all subscribers use. */
  framing: 'segmented' | 'plain';
  /**
   * How many recent versions sent to extension subscribers stay resumable
   * (the log keeps the changes since the oldest). 0 keeps none.
   * @default 64
   */
  historySize?: number;
  /**
   * Called when a subscriber's `sendEncoded` throws; the other subscribers
   * still get their message.
   * @default logs with console.error
   */
  onError?: ((err: unknown, subscriber: StateSubscriber) => void) | undefined;
}

/** The options with every default filled in. */
export type ResolvedStateChannelOptions = Required<{ [K in keyof StateChannelOptions]: Exclude<StateChannelOptions[K], undefined> }>;

/**
 * Validates `options` and fills in the defaults.
 * @throws InvalidArgumentError naming the bad option (`options.framing must be ...`)
 */
export function resolveStateChannelOptions(options: StateChannelOptions): ResolvedStateChannelOptions {
  const { autoflushDelay, maxSegmentSize, framing, historySize = DEFAULT_HISTORY_SIZE, onError } = options;
  if (autoflushDelay !== null && !(typeof autoflushDelay === 'number' && autoflushDelay >= 0 && Number.isFinite(autoflushDelay))) {
    throw new InvalidArgumentError('options.autoflushDelay', 'a non-negative number or null', autoflushDelay);
  }
  if (!Number.isSafeInteger(maxSegmentSize) || maxSegmentSize < 2) throw new InvalidArgumentError('options.maxSegmentSize', 'an integer of at least 2', maxSegmentSize);
  if (framing !== 'segmented' && framing !== 'plain') throw new InvalidArgumentError('options.framing', "'segmented' or 'plain'", framing);
  if (!Number.isSafeInteger(historySize) || historySize < 0) throw new InvalidArgumentError('options.historySize', 'a non-negative integer', historySize);
  if (onError !== undefined && typeof onError !== 'function') throw new InvalidArgumentError('options.onError', 'a function', onError);
  return {
    autoflushDelay,
    maxSegmentSize,
    framing,
    historySize,
    onError: onError ?? ((err) => reportCallbackError('a state subscriber', err)),
  };
}
