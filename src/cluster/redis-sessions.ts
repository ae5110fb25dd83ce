/**
 * Sessions in Redis (docs/cluster.md, "Sessions and keyed requests across
 * nodes"): a session record per session, so a client resumes on any node;
 * idle sessions in one sorted set by idle-since, trimmed atomically to
 * `maxSessions` for the whole cluster; keyed results through
 * {@link RedisKeyedResults}. `redisSessionBackend()` is the factory that
 * `listen({ cluster })` hands the server.
 *
 * A node renews the records of the sessions it holds a connection on, so a
 * session lives while it has a connection anywhere and `sessionTimeout`
 * after its last one left (or its node died). While Redis does not answer,
 * a `hello` presenting a session gets a new local session within
 * `resumeTimeout`: a client must not wait on Redis to get its dashboard.
 *
 * The view granted to a session's client (`client.setView()`) is kept in
 * its record too, so the session resumed on another node starts in it.
 */
import { InvalidArgumentError } from '../errors.js';
import { MIN_REMEMBERED_KEYS } from '../server/keyed-results.js';
import type { OpenedSession, SessionBackend, SessionBackendOptions, SessionHandle, Sessions } from '../server/session-backend.js';
import { issueToken, newSessionId, verifyToken } from '../server/session-token.js';
import { RedisKeyedResults, type KeyedContext } from './redis-keyed-results.js';
import type { RedisLink } from './redis-link.js';

/** The format number of session records this code writes and reads. */
export const SESSION_FORMAT = '1';

/** What the backend needs of a node's Redis access (a `RedisLogStore` has it). */
export interface SessionStoreSource {
  readonly links: { readonly control: RedisLink };
  readonly keys: { readonly prefix: string };
  readonly nodeId: string;
}

/** Options of {@link redisSessionBackend}. */
export interface RedisSessionOptions {
  /** How long a node's claim on a running keyed request holds without renewal, in ms; a repeat gets `outcome-unknown` this long after that node died. @default 5000 */
  keyLease?: number;
  /** How long a keyed request waits for Redis before it fails with ClusterUnavailableError, in ms. @default 10000 */
  writeTimeout?: number;
  /** How long a `hello` with a session waits for Redis before it gets a new local session, in ms. @default 800 */
  resumeTimeout?: number;
  /** Keyed outcomes kept per session (at least 1024). @default 1024 */
  maxKeys?: number;
  /** Largest keyed outcome kept, in bytes of JSON; a repeat of a larger one gets `outcome-unknown`. @default 65536 */
  maxResultSize?: number;
  /** Where trouble goes (unreadable records, outcomes that could not be stored). @default one line on stderr */
  onError?: (err: Error) => void;
}

interface RedisSession extends SessionHandle {
  /** Connections on this node. */
  connections: number;
}

function positive(value: unknown, argument: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) throw new InvalidArgumentError(argument, `an integer of at least ${min}`, value);
  return value;
}

/** A view read back from a record: paths of strings, or null (everything); undefined when unreadable. */
function parseView(text: string | undefined): string[][] | null | undefined {
  if (text === undefined) return undefined;
  try {
    const view = JSON.parse(text) as unknown;
    if (view === null) return null;
    if (Array.isArray(view) && view.every((p) => Array.isArray(p) && p.every((k) => typeof k === 'string'))) return view as string[][];
  } catch {
    // Reported by the caller as unreadable.
  }
  return undefined;
}

function withTimeout<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  promise.catch(() => {});
  return Promise.race([promise.catch(() => fallback), new Promise<T>((resolve) => (timer = setTimeout(() => resolve(fallback), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

class RedisSessions implements Sessions {
  readonly #options: SessionBackendOptions;
  readonly #link: RedisLink;
  readonly #prefix: string;
  readonly #resumeTimeout: number;
  readonly #keyed: KeyedContext;
  readonly #report: (err: Error) => void;
  /** Sessions with a connection on this node. */
  readonly #local = new Map<string, RedisSession>();
  /** How long a live session's record lasts without renewal; renewed every third of it. */
  readonly #liveTtl: number;
  readonly #timer: ReturnType<typeof setInterval>;
  /** Sessions whose granted view Redis may not have yet (it was away): written when it is back. */
  readonly #unsavedViews = new Map<string, string[][] | null>();

  constructor(source: SessionStoreSource, options: SessionBackendOptions, keyed: KeyedContext, resumeTimeout: number) {
    this.#options = options;
    this.#link = source.links.control;
    this.#prefix = source.keys.prefix;
    this.#resumeTimeout = resumeTimeout;
    this.#keyed = keyed;
    this.#report = keyed.report;
    this.#liveTtl = Math.max(options.sessionTimeout, 3000);
    this.#timer = setInterval(() => this.#renew([...this.#local.keys()]), Math.floor(this.#liveTtl / 3));
    this.#timer.unref();
    // A record missed while Redis was away (a new session, a renewal) is written as soon as it is back.
    this.#link.on('up', this.#onUp);
  }

  open(token: string | null): OpenedSession | Promise<OpenedSession> {
    const id = token === null ? null : verifyToken(this.#options.secret, token);
    if (id === null) return this.#fresh();
    const held = this.#local.get(id);
    if (held !== undefined) {
      held.connections += 1;
      return { session: held, resumed: true };
    }
    return withTimeout(this.#resume(id), this.#resumeTimeout, false).then((resumed) => {
      if (resumed === false) return this.#fresh();
      // Another connection on this session may have opened here meanwhile.
      const session = this.#local.get(id) ?? this.#attach(id, resumed.view);
      if (session.connections === 0) this.#local.set(id, session);
      session.connections += 1;
      return { session, resumed: true };
    });
  }

  token(session: SessionHandle): string {
    return issueToken(this.#options.secret, session.id);
  }

  release(handle: SessionHandle): void {
    const session = handle as RedisSession;
    session.connections -= 1;
    if (session.connections > 0) return;
    this.#local.delete(session.id);
    this.#unsavedViews.delete(session.id);
    const { sessionTimeout, maxSessions } = this.#options;
    this.#link
      .run((c) => c.sessionIdle([`${this.#prefix}sessions`], [this.#prefix, SESSION_FORMAT, sessionTimeout, maxSessions, session.id]) as Promise<unknown>)
      .catch(() => {
        // Redis away: the record lapses by itself after its live ttl, which is at least sessionTimeout.
      });
  }

  close(): void {
    clearInterval(this.#timer);
    this.#link.off('up', this.#onUp);
    this.#local.clear();
    this.#unsavedViews.clear();
  }

  readonly #onUp = (): void => {
    this.#renew([...this.#local.keys()]);
    for (const [id, view] of this.#unsavedViews) this.#keepView(id, view);
  };

  /**
   * Whether Redis holds a record of session `id` in a format we read (if so
   * it is live again), with the view its client was granted.
   */
  async #resume(id: string): Promise<false | { view: string[][] | null | undefined }> {
    if (!this.#link.ready) return false;
    const reply = (await this.#link.run(
      (c) => c.sessionResume([`${this.#prefix}s:${id}`, `${this.#prefix}sessions`], [SESSION_FORMAT, this.#liveTtl, id]) as Promise<unknown>,
    )) as [string, string?];
    if (reply[0] === 'format') this.#report(new Error(`session record in format ${reply[1]} (this node reads ${SESSION_FORMAT}): treated as absent`));
    if (reply[0] !== 'ok') return false;
    const view = parseView(reply[1]);
    if (reply[1] !== undefined && view === undefined) this.#report(new Error(`session ${id}: its record's view is unreadable; resumed without it`));
    return { view };
  }

  /** Writes a session's granted view into its record; if Redis is away, once it is back. */
  #keepView(id: string, view: string[][] | null | undefined): void {
    if (view === undefined) return;
    this.#unsavedViews.set(id, view);
    if (!this.#link.ready) return;
    this.#link
      .run((c) => c.sessionView([`${this.#prefix}s:${id}`], [SESSION_FORMAT, JSON.stringify(view)]) as Promise<unknown>)
      .then(
        // A newer view set meanwhile stays to be written.
        () => this.#unsavedViews.get(id) === view && this.#unsavedViews.delete(id),
        () => {
          // Redis away: written again when its link is back ('up').
        },
      );
  }

  #fresh(): OpenedSession {
    const session = this.#attach(newSessionId());
    session.connections = 1;
    this.#local.set(session.id, session);
    this.#renew([session.id]);
    return { session, resumed: false };
  }

  #attach(id: string, view?: string[][] | null): RedisSession {
    let granted = view;
    const keep = (v: string[][] | null | undefined): void => this.#keepView(id, v);
    return {
      id,
      channel: null,
      keyed: new RedisKeyedResults(this.#keyed, id),
      connections: 0,
      get view() {
        return granted;
      },
      // The connection sets it when its client was granted a view: the record keeps it for other nodes.
      set view(next) {
        granted = next;
        keep(next);
      },
    };
  }

  #renew(ids: string[]): void {
    if (ids.length === 0 || !this.#link.ready) return;
    this.#link
      .run((c) => c.sessionsLive([`${this.#prefix}sessions`], [this.#prefix, SESSION_FORMAT, this.#liveTtl, ...ids]) as Promise<unknown>)
      .catch(() => {
        // Redis away: renewed again when its link is back ('up').
      });
  }
}

/**
 * Sessions and keyed results in Redis, for every node of a cluster: what
 * `listen({ cluster })` passes the server, so a client resumes its session
 * on any node, `maxSessions` counts idle sessions across the cluster, and a
 * keyed request runs at most once per key in the cluster. Needs a shared
 * state (a cluster's); the records use the store's control link.
 *
 * @param store the node's Redis access (its `RedisLogStore`)
 * @throws {InvalidArgumentError} naming a bad option
 * @example
 * const store = await RedisLogStore.open({ url, name: 'plant' });
 * const server = await listen({ state, sessionSecret, sessionBackend: redisSessionBackend(store, { keyLease: 5000 }) });
 */
export function redisSessionBackend(store: SessionStoreSource, options: RedisSessionOptions = {}): SessionBackend {
  if (store === null || typeof store !== 'object' || typeof store.links?.control?.run !== 'function') {
    throw new InvalidArgumentError('store', 'a RedisLogStore', store);
  }
  const lease = positive(options.keyLease, 'options.keyLease', 5000, 100);
  const writeTimeout = positive(options.writeTimeout, 'options.writeTimeout', 10_000);
  const resumeTimeout = positive(options.resumeTimeout, 'options.resumeTimeout', 800);
  const maxKeys = positive(options.maxKeys, 'options.maxKeys', MIN_REMEMBERED_KEYS, MIN_REMEMBERED_KEYS);
  const maxResultSize = positive(options.maxResultSize, 'options.maxResultSize', 65_536);
  if (options.onError !== undefined && typeof options.onError !== 'function') throw new InvalidArgumentError('options.onError', 'a function', options.onError);
  const report = options.onError ?? ((err: Error) => console.error(`koa-juggler: cluster error: ${err.message}`));
  return (serverOptions) => {
    if (serverOptions.newChannel !== null) {
      throw new InvalidArgumentError('options.state', 'given (sessions in Redis need a shared state: per-session state cannot follow a client to another node)');
    }
    const keyed: KeyedContext = {
      link: store.links.control,
      prefix: store.keys.prefix,
      nodeId: store.nodeId,
      lease,
      ttl: Math.max(serverOptions.sessionTimeout, 1000),
      maxKeys,
      maxResultSize,
      writeTimeout,
      poll: Math.max(20, Math.min(250, Math.floor(lease / 5))),
      report: (err) => {
        try {
          report(err);
        } catch {
          // An onError that throws must not take a request down.
        }
      },
    };
    return new RedisSessions(store, serverOptions, keyed, resumeTimeout);
  };
}
