/**
 * Running one Redis command for a caller that may wait for Redis, but only
 * so long: while the link is down it waits for it to come back, and a
 * command that fails with the connection is sent again, until the
 * deadline; then it rejects with {@link ClusterUnavailableError}.
 */
import { ClusterUnavailableError } from '../errors.js';
import type { LinkClient, RedisLink } from './redis-link.js';

const TIMED_OUT = Symbol('timed out');

/** `promise`, or TIMED_OUT after `ms`; a late rejection of `promise` is swallowed. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  promise.catch(() => {});
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Runs `command` on `link`, waiting for Redis up to `timeout` ms in all.
 * The command must be safe to send twice (ours are: a claim carries its
 * claim id, a store its claim's).
 *
 * @throws {ClusterUnavailableError} (rejection) naming `what` past `timeout`; `sent` says whether it reached a connection
 * @example
 * const reply = await untilRedis(link, 10000, 'keyed request', (c) => c.ping());
 */
export async function untilRedis<T>(link: RedisLink, timeout: number, what: string, command: (client: LinkClient) => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeout;
  let sent = false;
  let cause: unknown;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    if (!link.ready) {
      // A closed link rejects at once: pace the loop rather than spin.
      const up = await within(link.whenReady().then(() => true, () => false), left);
      if (up !== true) await within(new Promise((resolve) => setTimeout(resolve, Math.min(50, left))), left);
      continue;
    }
    sent = true;
    try {
      const reply = await within(link.run(command), left);
      if (reply !== TIMED_OUT) return reply;
    } catch (err) {
      // The connection failed under the command: the link reconnects; try again on it.
      cause = err;
      await new Promise((resolve) => setTimeout(resolve, Math.min(50, Math.max(0, deadline - Date.now()))));
    }
  }
  throw new ClusterUnavailableError(`${what}: Redis did not answer within ${timeout} ms (writeTimeout)`, { sent, cause });
}
