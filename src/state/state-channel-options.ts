/**
 * The options of a {@link StateChannel}: one object, with its defaults
 * merged and validated in one place.
 */
import { InvalidArgumentError } from '../errors.js';
import type { MessageEncoder, StateSubscriber } from './fan-out.js';
import { reportCallbackError } from './report-error.js';

/** Default of {@link StateChannelOptions.historySize}. */
export const DEFAULT_HISTORY_SIZE = 64;

/**
 * Options of a {@link StateChannel}: one object, validated once.
 * @typeParam F the frames type `encode` makes
 */
export interface StateChannelOptions<F = unknown> {
  /**
   * A throttle: a positive delay sends the changes at most this long after
   * the first unsent one (later changes never postpone it). 0 sends each
   * change at once, on its own. null sends only on {@link StateChannel.flush}.
   */
  autoflushDelay: number | null;
  /**
   * Turns a message's text into the frames subscribers send (the server
   * passes its transport's framing); `shared` is true for frames that many
   * subscribers get.
   */
  encode: MessageEncoder<F>;
  /**
   * How many recent versions sent to extension subscribers span the resume
   * window: any entry boundary from the oldest of them on stays resumable
   * (the change record keeps what a diff from there needs). 0 keeps none.
   * @default 64
   */
  historySize?: number;
  /**
   * Called when a subscriber's `sendEncoded` throws; the other subscribers
   * still get their message.
   * @default logs with console.error
   */
  onError?: ((err: unknown, subscriber: StateSubscriber<F>) => void) | undefined;
  /**
   * Told after each flush that sent a diff: how long computing, encoding and
   * handing it to every subscriber took (ms) and the diff's length in UTF-16
   * units (the server's metrics). Null costs nothing.
   * @default null
   */
  onFlushed?: ((milliseconds: number, diffLength: number) => void) | null | undefined;
}

/** The options with every default filled in. */
export type ResolvedStateChannelOptions<F = unknown> = Required<{ [K in keyof StateChannelOptions<F>]: Exclude<StateChannelOptions<F>[K], undefined> }>;

/**
 * Validates `options` and fills in the defaults.
 * @throws InvalidArgumentError naming the bad option (`options.autoflushDelay must be ...`)
 */
export function resolveStateChannelOptions<F>(options: StateChannelOptions<F>): ResolvedStateChannelOptions<F> {
  const { autoflushDelay, encode, historySize = DEFAULT_HISTORY_SIZE, onError, onFlushed = null } = options;
  if (autoflushDelay !== null && !(typeof autoflushDelay === 'number' && autoflushDelay >= 0 && Number.isFinite(autoflushDelay))) {
    throw new InvalidArgumentError('options.autoflushDelay', 'a non-negative number or null', autoflushDelay);
  }
  if (typeof encode !== 'function') throw new InvalidArgumentError('options.encode', 'a function', encode);
  if (!Number.isSafeInteger(historySize) || historySize < 0) throw new InvalidArgumentError('options.historySize', 'a non-negative integer', historySize);
  if (onError !== undefined && typeof onError !== 'function') throw new InvalidArgumentError('options.onError', 'a function', onError);
  if (onFlushed !== null && typeof onFlushed !== 'function') throw new InvalidArgumentError('options.onFlushed', 'a function or null', onFlushed);
  return {
    autoflushDelay,
    encode,
    historySize,
    onError: onError ?? ((err) => reportCallbackError('a state subscriber', err)),
    onFlushed,
  };
}
