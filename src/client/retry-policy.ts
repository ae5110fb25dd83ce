/**
 * The reconnecting client's retry policy, as pure functions: the delay
 * between rounds, which failures are not worth another attempt, and the
 * credentials of one attempt.
 */
import { ConnectError, ConnectionClosedError, InvalidArgumentError, ProtocolError } from '../errors.js';
import { checkAuth, type AuthSource, type BackoffOptions, type BasicAuth, type PlatformInfo } from './options.js';

/**
 * The delay before retry round `round` (0 for the first): `initial`
 * doubled each round up to `max`, then drawn uniformly from
 * `[d × (1 − jitter), d]`.
 */
export function backoffDelay(backoff: Required<BackoffOptions>, round: number, random: () => number = Math.random): number {
  const d = Math.min(backoff.max, backoff.initial * 2 ** Math.min(round, 52));
  return d * (1 - backoff.jitter * random());
}

/** Why `err` must not be retried (bad credentials, HTTP 401/403, a fatal close code, no WebSocket at all), or null. */
export function fatalReason(err: Error, fatalCloseCodes: ReadonlySet<number>): string | null {
  if (err instanceof InvalidArgumentError) return err.message;
  if (err instanceof ConnectError && err.kind === 'unsupported') return err.message;
  if (err instanceof ConnectError && (err.status === 401 || err.status === 403)) {
    return `the server refused the handshake with HTTP ${err.status} (${err.status === 401 ? 'credentials missing or wrong' : 'forbidden'})`;
  }
  if (err instanceof ConnectionClosedError && fatalCloseCodes.has(err.closeCode)) {
    return `the server closed the connection with ${err.closeCode}${err.reason ? ` (${err.reason})` : ''}, a fatal close code`;
  }
  if (err instanceof ProtocolError && fatalCloseCodes.has(err.closeCode)) {
    return `the server sent invalid data (${err.message}); the client closed with ${err.closeCode}, a fatal close code`;
  }
  return null;
}

/**
 * The credentials for one attempt: `source` itself, or what the function
 * returns (awaited, but no longer than `signal` allows).
 * @throws (rejects) what the function throws; the signal's reason; InvalidArgumentError for a value that is not credentials
 */
export async function attemptCredentials(source: AuthSource | null, signal: AbortSignal, platform: PlatformInfo): Promise<BasicAuth | null> {
  if (typeof source !== 'function') return source;
  const aborted = new Promise<never>((_, reject) => {
    const fail = () => reject(signal.reason instanceof Error ? signal.reason : new ConnectError('', 'aborted', 'aborted'));
    if (signal.aborted) fail();
    else signal.addEventListener('abort', fail, { once: true });
  });
  aborted.catch(() => {});
  const got = await Promise.race([Promise.resolve().then(source), aborted]);
  return got === null || got === undefined ? null : checkAuth(got, 'the value options.auth() returned', platform);
}
