/**
 * Turns an htpasswd file into an {@link Authenticate} function for the HTTP
 * layer and the upgrade guard, with a small cache so that bcrypt (slow on
 * purpose) does not run on every request and every WebSocket upgrade.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import basicAuth from 'basic-auth';
import { InvalidArgumentError } from '../../errors.js';
import type { HtpasswdFile } from './htpasswd.js';

/**
 * Decides who sent a request: the user name, or `null` for none (missing or
 * wrong credentials). Used for every HTTP route and for the WebSocket
 * upgrade; `req` is Node's `IncomingMessage` or anything with its headers.
 */
export type Authenticate = (req: {
  headers: Record<string, string | string[] | undefined>;
}) => Promise<string | null> | string | null;

/** Options of {@link htpasswdAuthenticator}. */
export interface HtpasswdAuthenticatorOptions {
  /**
   * How many verified credentials to remember; beyond it the oldest is
   * dropped. `0` turns the cache off (every request runs the hash).
   * @default 1000
   */
  cacheSize?: number;
  /**
   * How long, in milliseconds, a verified credential is remembered,
   * counted from its verification (a hit does not extend it). `0` turns the
   * cache off.
   * @default 300000 (5 minutes)
   */
  cacheTtl?: number;
}

/** Default of {@link HtpasswdAuthenticatorOptions.cacheSize}. */
export const DEFAULT_AUTH_CACHE_SIZE = 1000;
/** Default of {@link HtpasswdAuthenticatorOptions.cacheTtl}. */
export const DEFAULT_AUTH_CACHE_TTL = 5 * 60 * 1000;

/**
 * Makes an {@link Authenticate} that reads HTTP Basic credentials from the
 * `Authorization` header and checks them against an htpasswd file.
 *
 * Successful verifications are cached, keyed by an HMAC of the credentials
 * under a random per-process key: neither the password nor the raw header
 * is kept, and a cache dump cannot be brute-forced offline without the key.
 * Failures are never cached, so a user who mistyped is not locked out and a
 * wrong password never turns into a hit. Concurrent requests with the same
 * credentials (a page loading its assets) share one verification.
 *
 * A missing, non-Basic or malformed header resolves `null`; nothing here
 * rejects for bad input.
 *
 * @throws {InvalidArgumentError} for a `file` without `verify()`, or a
 *   `cacheSize` / `cacheTtl` that is not a non-negative number.
 * @example
 * const authenticate = htpasswdAuthenticator(await loadHtpasswd('htpasswd'))
 * const user = await authenticate(req) // 'demo' or null
 */
export function htpasswdAuthenticator(
  file: Pick<HtpasswdFile, 'verify'>,
  options: HtpasswdAuthenticatorOptions = {},
): Authenticate {
  if (file === null || typeof file !== 'object' || typeof file.verify !== 'function') {
    throw new InvalidArgumentError('file', 'a loaded htpasswd file', file);
  }
  const cacheSize = options.cacheSize ?? DEFAULT_AUTH_CACHE_SIZE;
  const cacheTtl = options.cacheTtl ?? DEFAULT_AUTH_CACHE_TTL;
  if (!Number.isInteger(cacheSize) || cacheSize < 0) {
    throw new InvalidArgumentError('options.cacheSize', 'a non-negative integer', cacheSize);
  }
  if (typeof cacheTtl !== 'number' || !(cacheTtl >= 0) || cacheTtl === Infinity) {
    throw new InvalidArgumentError('options.cacheTtl', 'a non-negative finite number of milliseconds', cacheTtl);
  }

  const cache = new VerifiedCache(cacheSize, cacheTtl);
  const key = randomBytes(32);
  // Verifications in progress, by the same HMAC key; removed when settled.
  const inFlight = new Map<string, Promise<string | null>>();

  return async (req) => {
    const header = req?.headers?.authorization;
    // Node keeps one Authorization header; an array here means a caller
    // merged several, which is ambiguous, so nobody is authenticated.
    if (typeof header !== 'string') return null;
    const credentials = basicAuth.parse(header);
    if (credentials === undefined) return null;
    const { name, pass } = credentials;

    // The user name cannot contain ':', so `name:pass` is unambiguous.
    const id = createHmac('sha256', key).update(`${name}:${pass}`, 'utf8').digest('base64');
    const cached = cache.get(id);
    if (cached !== undefined) return cached;

    let pending = inFlight.get(id);
    if (pending === undefined) {
      pending = verify(file, name, pass).then((ok) => {
        if (ok) cache.set(id, name);
        return ok ? name : null;
      });
      inFlight.set(id, pending);
      void pending.finally(() => inFlight.delete(id));
    }
    return pending;
  };
}

async function verify(file: Pick<HtpasswdFile, 'verify'>, name: string, pass: string): Promise<boolean> {
  try {
    return (await file.verify(name, pass)) === true;
  } catch {
    // Every request and upgrade goes through here: a failure to verify is a
    // refusal, never an unhandled rejection.
    return false;
  }
}

/**
 * HMAC → user, in insertion order. Entries live `ttl` from insertion, so
 * the oldest is also the first to expire: eviction by count and by age both
 * take from the front of the Map.
 */
class VerifiedCache {
  readonly #max: number;
  readonly #ttl: number;
  readonly #entries = new Map<string, { user: string; expires: number }>();

  constructor(max: number, ttl: number) {
    this.#max = max;
    this.#ttl = ttl;
  }

  get(id: string): string | undefined {
    const entry = this.#entries.get(id);
    if (entry === undefined) return undefined;
    // Monotonic clock: a wall-clock jump must not make entries immortal.
    if (performance.now() >= entry.expires) {
      this.#entries.delete(id);
      return undefined;
    }
    return entry.user;
  }

  set(id: string, user: string): void {
    if (this.#max === 0 || this.#ttl === 0) return;
    const now = performance.now();
    this.#entries.delete(id);
    this.#entries.set(id, { user, expires: now + this.#ttl });
    for (const [oldId, entry] of this.#entries) {
      if (this.#entries.size <= this.#max && entry.expires > now) break;
      this.#entries.delete(oldId);
    }
  }
}
