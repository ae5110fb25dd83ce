/**
 * Running the application's callbacks (listeners, `onNotify`, the
 * reconnecting client's events) so that they can never break a connection:
 * what one throws, or a promise it returns rejects with, goes to `onError`.
 */
import { InvalidArgumentError } from '../errors.js';

/** Hands an error to `onError`; an `onError` that throws has nowhere left to report to. */
export function reportTo(onError: (err: unknown) => void, err: unknown): void {
  try {
    onError(err);
  } catch {
    // Nothing left to tell.
  }
}

/** Calls `fn(...args)`; what it throws or rejects with goes to `onError`. */
export function runCallback<A extends unknown[]>(onError: (err: unknown) => void, fn: (...args: A) => unknown, ...args: A): void {
  try {
    const result = fn(...args);
    if (result !== null && typeof result === 'object' && typeof (result as Promise<unknown>).then === 'function') {
      (result as Promise<unknown>).then(undefined, (err: unknown) => reportTo(onError, err));
    }
  } catch (err) {
    reportTo(onError, err);
  }
}

/**
 * Adds `listener` to `listeners` (the same function twice is two
 * registrations), unless the owner is `closed` already.
 * @returns a function that unregisters it
 * @throws InvalidArgumentError when `listener` is not a function
 */
export function addListener<A extends unknown[]>(listeners: Set<(...args: A) => void>, listener: unknown, closed: boolean): () => void {
  if (typeof listener !== 'function') throw new InvalidArgumentError('listener', 'a function', listener);
  if (closed) return () => {};
  const entry = (...args: A) => (listener as (...args: A) => void)(...args);
  listeners.add(entry);
  return () => {
    listeners.delete(entry);
  };
}
