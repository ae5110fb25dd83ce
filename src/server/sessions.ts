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
import type { OpenedSession, SessionBackend, SessionBackendOptions, SessionHandle, Sessions } from './session-backend.js';
import { issueToken, newSessionId, verifyToken } from './session-token.js';

/** One session in memory: shared by all its live connections. */
export interface Session extends SessionHandle {
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

/** The options of a {@link SessionStore}. */
export type SessionStoreOptions = SessionBackendOptions;

/**
 * The one process's sessions, in memory: synchronous, so a `hello` is
 * answered in the same turn.
 *
 * @example
 * const store = new SessionStore({ secret, sessionTimeout: 60000, maxSessions: 10000, newChannel: null });
 * const { session, resumed } = store.open(hello.session);
 */
export class SessionStore implements Sessions {
  readonly #options: SessionStoreOptions;
  readonly #sessions = new Map<string, Session>();
  // Sessions without a connection, in the order they became idle.
  readonly #idle = new Set<Session>();
  #timer: ReturnType<typeof setInterval> | null = null;

  /** Sessions held, with or without a connection. */
  get size(): number {
    return this.#sessions.size;
  }

  constructor(options: SessionStoreOptions) {
    this.#options = options;
  }

  /**
   * The session a `hello` names when it is valid and still held, else a new
   * one. Attaches a connection to it.
   */
  open(token: string | null): OpenedSession & { session: Session } {
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

  /** @internal every session held (the admin page lists them) */
  list(): Iterable<Session> {
    return this.#sessions.values();
  }

  /** A fresh token for the session (sent in every `welcome`). */
  token(session: SessionHandle): string {
    return issueToken(this.#options.secret, session.id);
  }

  /** A connection on the session closed. */
  release(handle: SessionHandle): void {
    const session = handle as Session;
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

/** The default {@link SessionBackend}: sessions and keyed results in this process's memory. */
export const memorySessions: SessionBackend = (options) => new SessionStore(options);
