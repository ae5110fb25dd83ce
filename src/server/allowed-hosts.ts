/**
 * `allowedHosts`: the Host header check against DNS rebinding (docs/security.md,
 * "Host names"). A page on `evil.example` whose name the attacker re-points
 * at 127.0.0.1 is, to the browser, same-origin with that name: it can read
 * our routes and open our WebSocket, and no Origin check sees anything
 * wrong. Its requests still say `Host: evil.example`, so a server that
 * answers only to the names it is known by stays out of reach.
 */
import { isIP } from 'node:net';
import type Koa from 'koa';
import { InvalidArgumentError } from '../errors.js';

/** The names a loopback server answers to by default (any port). */
export const LOOPBACK_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];

/** Whether an address (or the `host` option) is a loopback one. */
export function isLoopbackAddress(address: string): boolean {
  const a = address.toLowerCase();
  if (a === 'localhost' || a === '::1' || a === '[::1]') return true;
  const v4 = a.startsWith('::ffff:') ? a.slice(7) : a;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

/**
 * Validates and normalizes the `allowedHosts` option: `'all'`, or a list of
 * `name`, `name:port` or `.domain` entries (lower-cased, no scheme, no path).
 * @throws InvalidArgumentError naming the first bad entry
 */
export function checkAllowedHosts(name: string, value: unknown): readonly string[] | 'all' {
  if (value === 'all') return 'all';
  if (!Array.isArray(value)) throw new InvalidArgumentError(name, "'all' or an array of host names", value);
  return value.map((entry: unknown, i) => {
    if (typeof entry !== 'string' || entry.length === 0 || /[/\s@]/.test(entry) || entry.includes('://')) {
      throw new InvalidArgumentError(`${name}[${i}]`, 'a host name, "name:port" or ".domain" (no scheme, no path)', entry);
    }
    return entry.toLowerCase();
  });
}

/** Splits a Host header value into its lower-cased name (IPv6 in brackets) and port ('' when absent). */
export function splitHost(host: string): { name: string; port: string } {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    if (end === -1) return { name: h, port: '' };
    return { name: h.slice(0, end + 1), port: h.slice(end + 1).replace(/^:/, '') };
  }
  const colon = h.lastIndexOf(':');
  const name = colon === -1 ? h : h.slice(0, colon);
  // A fully qualified name may end with a dot; it names the same host.
  return { name: name.endsWith('.') ? name.slice(0, -1) : name, port: colon === -1 ? '' : h.slice(colon + 1) };
}

function matches(entry: string, name: string, port: string): boolean {
  if (entry.startsWith('.')) return name === entry.slice(1) || name.endsWith(entry);
  const wanted = splitHost(entry);
  return wanted.name === name && (wanted.port === '' || wanted.port === port);
}

/**
 * Decides whether a request's Host header is one this server answers to.
 * With no `allowedHosts` given, the default follows the address the server
 * listens on, asked when a request arrives (`attach()` may be given a
 * server that listens later).
 */
export class HostPolicy {
  readonly #given: readonly string[] | 'all' | null;
  readonly #listeningOn: () => string | null;
  #resolved: readonly string[] | 'all' | null;
  #last: { host: string; allowed: readonly string[] | null; result: boolean } | null = null;

  /**
   * @param allowed the resolved `allowedHosts` option (null: the default)
   * @param listeningOn the address the HTTP server is bound to, or null while it is not
   */
  constructor(allowed: readonly string[] | 'all' | null, listeningOn: () => string | null) {
    this.#given = allowed;
    this.#listeningOn = listeningOn;
    this.#resolved = allowed;
  }

  /** The names accepted now: a list, `'all'`, or null while the default is not known yet. */
  get allowed(): readonly string[] | 'all' | null {
    if (this.#resolved === null && this.#given === null) {
      const address = this.#listeningOn();
      if (address !== null) this.#resolved = isLoopbackAddress(address) ? LOOPBACK_HOSTS : 'all';
    }
    return this.#resolved;
  }

  /** Whether a request with this Host header may go on (no header: only when any host is allowed). */
  allows(host: string | undefined): boolean {
    const allowed = this.allowed;
    if (allowed === 'all') return true;
    if (host === undefined || host === '') return false;
    // Every dashboard of a site sends the same Host: the last answer is kept (for the list it was given for).
    const last = this.#last;
    if (last !== null && last.host === host && last.allowed === allowed) return last.result;
    const { name, port } = splitHost(host);
    // Before the server listens nothing can arrive; treat it as loopback, the safe side.
    const result = (allowed ?? LOOPBACK_HOSTS).some((entry) => matches(entry, name, port));
    this.#last = { host, allowed, result };
    return result;
  }

  /** Koa middleware answering 403 to a request for another host; mounted first. */
  middleware(): Koa.Middleware {
    return async (ctx, next) => {
      if (!this.allows(ctx.get('host') || undefined)) {
        ctx.status = 403;
        ctx.body = 'host not allowed\n';
        return;
      }
      await next();
    };
  }
}

/** The address an HTTP server is bound to, or null while it is not listening. */
export function boundAddress(server: { address(): ReturnType<import('node:net').Server['address']> }): string | null {
  const address = server.address();
  if (address === null) return null;
  return typeof address === 'string' ? 'localhost' : address.address;
}
