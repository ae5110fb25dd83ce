/**
 * The guard in front of the WebSocket endpoint. The upgrade request never
 * passes through Koa's middleware, so path, Host, Origin, connection limit and
 * authentication are checked here, and a refusal is an HTTP answer before
 * the upgrade (401, 403, 503), never a WebSocket that opens and then closes.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { rejectUpgrade } from './auth/challenge.js';
import type { HostPolicy } from './allowed-hosts.js';
import type { Authenticate } from './middleware/auth.js';
import { isOriginAllowed, type OriginPolicy } from './origin.js';

export interface UpgradeGuardOptions {
  wsPath: string;
  /** The Host header check (`allowedHosts`). */
  hosts: HostPolicy;
  originPolicy: OriginPolicy;
  maxConnections: number;
  authenticate: Authenticate | null;
  /** The WWW-Authenticate value for a 401 (Basic auth), or null. */
  challenge: string | null;
  /** Open connections plus upgrades in progress, the one being checked included. */
  load(): number;
  /** Whether the server is shutting down. */
  closing(): boolean;
}

/** What the guard decided: go ahead as this user, or the refusal was already written. */
export type GuardResult = { user: string | null } | null;

/** Whether an upgrade request's URL (query string aside) is the WebSocket endpoint's path. */
export function isWsPath(url: string | undefined, wsPath: string): boolean {
  const target = url ?? '/';
  const q = target.indexOf('?');
  return (q === -1 ? target : target.slice(0, q)) === wsPath;
}

// Without authentication every accepted upgrade gets the same verdict.
const ANONYMOUS: GuardResult = Object.freeze({ user: null });

/**
 * Checks one upgrade; on refusal answers on the raw socket and returns null.
 * Synchronous unless there is an `authenticate` to wait for: a promise and
 * a turn of the microtask queue per connection are spared when there is not.
 */
export function guardUpgrade(req: IncomingMessage, socket: Duplex, options: UpgradeGuardOptions): GuardResult | Promise<GuardResult> {
  if (!isWsPath(req.url, options.wsPath)) {
    rejectUpgrade(socket, 404, {}, 'no WebSocket endpoint at this path\n');
    return null;
  }
  if (!options.hosts.allows(req.headers.host)) {
    rejectUpgrade(socket, 403, {}, 'host not allowed\n');
    return null;
  }
  if (options.closing()) {
    rejectUpgrade(socket, 503, {}, 'server shutting down\n');
    return null;
  }
  if (!isOriginAllowed(req.headers.origin, req.headers.host, options.originPolicy)) {
    rejectUpgrade(socket, 403, {}, 'origin not allowed\n');
    return null;
  }
  // load() counts this upgrade too: it is one of those in progress.
  if (options.load() > options.maxConnections) {
    rejectUpgrade(socket, 503, {}, 'too many connections\n');
    return null;
  }
  if (options.authenticate === null) return ANONYMOUS;
  return authenticated(req, socket, options.authenticate, options.challenge);
}

async function authenticated(req: IncomingMessage, socket: Duplex, authenticate: Authenticate, challenge: string | null): Promise<GuardResult> {
  const user = await authenticate(req);
  if (user === null || user === undefined) {
    rejectUpgrade(socket, 401, challenge === null ? {} : { 'WWW-Authenticate': challenge }, 'authentication required\n');
    return null;
  }
  return { user };
}
