/**
 * The session-store seam: what a connection needs of sessions and keyed
 * results (docs/protocol.md, "Sessions" and "Idempotent retry"), as
 * interfaces, so that the one process keeps them in memory
 * ({@link SessionStore}, synchronous) and a cluster keeps them in Redis
 * (`redisSessionBackend()` in src/cluster/), chosen by the server from its
 * options.
 */
import type { StateChannel } from '../state/state-channel.js';
import type { Outcome } from './keyed-results.js';
import type { SessionSecret } from './session-token.js';

/**
 * The outcomes of one session's keyed requests: a handler runs at most
 * once per key (per process in memory, per cluster in Redis).
 */
export interface KeyedOutcomes {
  /**
   * The outcome of the request keyed `key`: the stored one, the running
   * one's once it settles, or else `run()`'s, remembered. Never rejects:
   * a failure of the store itself (Redis unreachable past its bound) is a
   * failed outcome.
   */
  once(key: string, run: () => Outcome | Promise<Outcome>): Promise<Outcome>;
}

/** One session as its connections hold it. */
export interface SessionHandle {
  readonly id: string;
  /** The session's own state channel, when the server has no shared state. */
  readonly channel: StateChannel | null;
  readonly keyed: KeyedOutcomes;
  /**
   * The view a client of this session was granted (`client.setView()`), so a
   * resumed session starts in it; undefined: none asked for.
   */
  view?: string[][] | null;
}

/** What `open()` gives a connection: its session and whether it was resumed. */
export interface OpenedSession {
  session: SessionHandle;
  resumed: boolean;
}

/**
 * A server's sessions. `open()` may answer synchronously (in memory) or
 * with a promise (Redis, bounded to about a second); a connection handles
 * both.
 */
export interface Sessions {
  /**
   * The session a `hello` names when its token is valid and the session
   * still lives, else a new one; attaches a connection to it. Never rejects.
   */
  open(token: string | null): OpenedSession | Promise<OpenedSession>;
  /** A fresh token for the session (sent in every `welcome`). */
  token(session: SessionHandle): string;
  /** A connection on the session closed. */
  release(session: SessionHandle): void;
  /** Drops what this node holds and stops its timers. */
  close(): void;
  /** How many sessions this node holds (for metrics); absent where they live elsewhere (Redis). */
  readonly size?: number;
  /** The sessions this node holds, for the admin page; absent where they live elsewhere (Redis). */
  list?(): Iterable<{ readonly id: string; readonly connections: number; readonly idleSince: number }>;
}

/** What the server tells a session backend. */
export interface SessionBackendOptions {
  /** HMAC key(s) for session tokens: the first signs, all verify. */
  secret: SessionSecret;
  /** How long a session outlives its last connection (ms). */
  sessionTimeout: number;
  /** Sessions held without a connection; beyond it the oldest go first. */
  maxSessions: number;
  /** Makes the per-session state channel, or null when the server's state is shared. */
  newChannel: (() => StateChannel) | null;
}

/**
 * Makes a server's {@link Sessions} from its options: the seam through
 * which `listen({ cluster })` puts sessions in Redis.
 *
 * @example
 * const sessions = backend({ secret, sessionTimeout: 60000, maxSessions: 10000, newChannel: null });
 */
export type SessionBackend = (options: SessionBackendOptions) => Sessions;
