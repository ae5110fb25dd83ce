/**
 * `server.drain()`'s pacing: close the connections one after another,
 * spread evenly over the timeout, so that the clients of a node being
 * restarted reconnect elsewhere as a trickle rather than a herd.
 */
import { InvalidArgumentError } from '../errors.js';

/** Default of `drain({ timeout })`. */
export const DEFAULT_DRAIN_TIMEOUT = 30000;

/** The options of `server.drain()`. */
export interface DrainOptions {
  /** Over how long the connections are closed (ms); 0 closes them all at once. @default 30000 */
  timeout?: number;
}

/**
 * Checks `drain()`'s options.
 * @throws InvalidArgumentError naming the bad option
 */
export function resolveDrainTimeout(options: unknown): number {
  if (options === undefined) return DEFAULT_DRAIN_TIMEOUT;
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options', 'an object', options);
  const { timeout } = options as DrainOptions;
  if (timeout === undefined) return DEFAULT_DRAIN_TIMEOUT;
  if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout < 0 || timeout > 2147483647) {
    throw new InvalidArgumentError('options.timeout', 'a number of milliseconds from 0 to 2147483647', timeout);
  }
  return timeout;
}

/**
 * Calls `act` on each item, the i-th (from 0) at `i × timeout / n`, so the
 * last goes at `(n − 1) / n × timeout` and the gaps are even. One timer at
 * a time; items due at the same tick go together. Resolves after the last,
 * or at once when `signal` aborts (the server closes anyway), leaving no
 * timer behind.
 * @example
 * await spreadOver([...connections], 30000, (conn) => conn.closeWith(1012, 'server restarting'), signal);
 */
export function spreadOver<T>(items: readonly T[], timeout: number, act: (item: T) => void, signal: AbortSignal): Promise<void> {
  const n = items.length;
  if (n === 0 || signal.aborted) return Promise.resolve();
  const start = Date.now();
  const step = timeout / n;
  let next = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  return new Promise((resolve) => {
    const finish = (): void => {
      if (timer !== null) clearTimeout(timer);
      signal.removeEventListener('abort', finish);
      resolve();
    };
    const tick = (): void => {
      timer = null;
      const due = Math.min(n, Math.floor((Date.now() - start) / step) + 1);
      while (next < due) act(items[next++]!);
      if (next >= n) return finish();
      timer = setTimeout(tick, Math.max(0, start + next * step - Date.now()));
    };
    signal.addEventListener('abort', finish);
    tick();
  });
}
