/**
 * Sessions of the koa-juggler.v1 extension (docs/protocol.md, "Sessions"): what
 * outlives a connection so that a client coming back gets it again — the
 * per-connection state (when the server has no shared one) and the
 * idempotency cache. A session lives while it has a connection and for
 * `sessionTimeout` after its last one left; the number held without a
 * connection is bounded by `maxSessions`, oldest first.
 */
import { StateChannel } from '../state/state-channel.js';
import { KeyedResults } from './keyed-results.js';
import { issueToken, newSessionId, verifyToken } from './session-token.js';

/** One session: shared by all its live connections. */
export interface Session {
  readonly id: string;
  /** The session's own state channel, when the server has no shared state. */
  readonly channel: StateChannel | null;
  readonly keyed: KeyedResults;
  /** The view a client of this session was granted (`client.setView()`); undefined: none asked for. */
  view?: string[][] | null;
  /** Live connections on this session. */
  connections: number;
  /** When the last connection left (ms), while it has none. */
  idleSince: number;
}

export interface SessionStoreOptions {
  secret: Buffer | string;
  sessionTimeout: number;
  maxSessions: number;
  /** Makes the per-session state channel, or null when the server's state is shared. */
  newChannel: (() => StateChannel) | null;
}

export class SessionStore {
  readonly #options: SessionStoreOptions;
  readonly #sessions = new Map<string, Session>();
  // Sessions without a connection, in the order they became idle.
  readonly #idle = new Set<Session>();
  #timer: ReturnType<typeof setInterval> | null = null;

  constructor(options: SessionStoreOptions) {
    this.#options = options;
  }

  /**
   * The session a `hello` names when it is valid and still held, else a new
   * one. Attaches a connection to it.
   */
  open(token: string | null): { session: Session; resumed: boolean } {
    const id = token === null ? null : verifyToken(this.#options.secret, token);
    let session = id === null ? undefined : this.#sessions.get(id);
    if (session !== undefined && this.#expired(session, Date.now())) {
      this.#drop(session);
      session = undefined;
    }
    const resumed = session !== undefined;
    if (session === undefined) {
      session = {
        id: newSessionId(),
        channel: this.#options.newChannel?.() ?? null,
        keyed: new KeyedResults(this.#options.sessionTimeout),
        connections: 0,
        idleSince: 0,
      };
      this.#sessions.set(session.id, session);
    }
    session.connections += 1;
    this.#idle.delete(session);
    return { session, resumed };
  }

  /** A fresh token for the session (sent in every `welcome`). */
  token(session: Session): string {
    return issueToken(this.#options.secret, session.id);
  }

  /** A connection on the session closed. */
  release(session: Session): void {
    session.connections -= 1;
    if (session.connections > 0) return;
    session.idleSince = Date.now();
    this.#idle.add(session);
    while (this.#idle.size > this.#options.maxSessions) this.#drop(this.#idle.values().next().value!);
    this.#schedule();
  }

  /** Drops every session and stops the sweep timer. */
  close(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    for (const session of [...this.#sessions.values()]) this.#drop(session);
  }

  #expired(session: Session, now: number): boolean {
    return session.connections === 0 && now - session.idleSince >= this.#options.sessionTimeout;
  }

  #drop(session: Session): void {
    this.#sessions.delete(session.id);
    this.#idle.delete(session);
    session.channel?.close();
  }

  #schedule(): void {
    if (this.#timer !== null) return;
    const every = Math.max(100, Math.min(this.#options.sessionTimeout / 2, 60_000));
    this.#timer = setInterval(() => this.#sweep(), every);
    this.#timer.unref();
  }

  #sweep(): void {
    const now = Date.now();
    for (const session of this.#idle) {
      if (!this.#expired(session, now)) break;
      this.#drop(session);
    }
    if (this.#idle.size === 0 && this.#timer !== null) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
  }
}
