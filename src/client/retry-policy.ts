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

/** Close codes that send a client elsewhere at once: 1001 (Going Away) and 1012 (Service Restart, a draining server). */
const GO_ELSEWHERE_CODES: ReadonlySet<number> = new Set([1001, 1012]);

/**
 * Whether a connection that ended with `err` was closed by a server going
 * away or restarting: then the next address is tried at once, after a
 * jitter of up to `backoff.initial × backoff.jitter` (so that the clients
 * of a draining node do not all land on the next one in the same instant),
 * not after the backoff.
 */
export function goesElsewhere(err: Error): boolean {
  return err instanceof ConnectionClosedError && GO_ELSEWHERE_CODES.has(err.closeCode);
}

/** The short, jittered delay before trying the next address after {@link goesElsewhere}. */
export function elsewhereDelay(backoff: Required<BackoffOptions>, random: () => number = Math.random): number {
  return backoff.initial * backoff.jitter * random();
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
