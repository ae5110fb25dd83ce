/**
 * One Redis connection of a node (commands, blocking reader, or control),
 * as a node-redis client with RESP2 pinned and a watchdog on top.
 *
 * node-redis brings reconnection (`reconnectStrategy`), TCP keepalive and
 * `pingInterval`; what it lacks is noticing a connection that stopped
 * answering while the socket stays open (half-open TCP, a paused Redis):
 * writes succeed into the kernel buffer, so neither its socket timeout
 * (reset by writes) nor keepalive (minutes) fires in time. The watchdog
 * measures the silence since the last reply while a reply is owed, and
 * replaces the client when it passes the bound.
 *
 * RESP2, because node-redis marks its RESP3 XREAD reply as unstable, and
 * every Redis or Valkey speaks RESP2 without a HELLO.
 */
import { EventEmitter } from 'node:events';
import { createClient, ErrorReply } from 'redis';
import { SCRIPTS } from './lua-scripts.js';
import { SESSION_SCRIPTS } from './session-scripts.js';

/** Every script a link loads: the log's and the sessions'. */
const ALL_SCRIPTS = { ...SCRIPTS, ...SESSION_SCRIPTS };

/** Which of a node's three connections this is. */
export type LinkRole = 'commands' | 'reader' | 'control';

/** Options of a {@link RedisLink}. */
export interface RedisLinkOptions {
  /** `redis://` or `rediss://` URL, credentials allowed. */
  url: string;
  role: LinkRole;
  /**
   * How long a reply may be owed before the connection counts as dead and
   * is replaced, in ms, on top of a command's own allowance (a blocking
   * read's block time). @default 10000
   */
  watchdog?: number;
  /** Send PING while idle so a dead idle connection is noticed too. @default true except for 'reader' */
  ping?: boolean;
}

/** Events of a {@link RedisLink}. */
export interface RedisLinkEvents {
  /** The connection is ready (first time or after a reconnect or replacement). */
  up: [];
  /** The connection failed after being up (once per outage); node-redis reconnects with backoff. */
  down: [err: Error];
  /** The watchdog replaced a connection that stopped answering. */
  replaced: [reason: string];
  /** {@link RedisLink.close} was called. */
  closed: [];
}

/** A node-redis client of ours: RESP2, with the cluster's scripts. */
export type LinkClient = ReturnType<typeof makeClient>;

/**
 * The URL without its password, for messages and logs.
 *
 * @example
 * redactUrl('redis://u:secret@h:6379') // 'redis://u@h:6379'
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = '';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '(unparseable Redis URL)';
  }
}

/** 50 ms, doubling with each attempt, up to `max`. */
function backoff(attempt: number, max: number): number {
  return Math.min(50 * 2 ** attempt, max);
}

function makeClient(url: string, watchdog: number, ping: boolean, started: () => boolean) {
  return createClient({
    url,
    RESP: 2,
    scripts: ALL_SCRIPTS,
    // Commands fail at once while disconnected: the callers keep their own
    // ordered queues, and node-redis's offline queue would send queued
    // commands ahead of the ones they retry.
    disableOfflineQueue: true,
    pingInterval: ping ? Math.max(50, Math.floor(watchdog / 3)) : undefined,
    socket: {
      connectTimeout: watchdog,
      keepAlive: true,
      keepAliveInitialDelay: watchdog,
      reconnectStrategy: (retries: number, cause: Error) => {
        // At start a refused connection is an answer: the caller rejects.
        if (!started() && retries >= 2) return cause;
        return backoff(retries, 2000) + Math.floor(Math.random() * 100);
      },
    },
  });
}

/**
 * One watched Redis connection. Run commands through {@link RedisLink.run}
 * so the watchdog knows a reply is owed.
 *
 * @example
 * const link = new RedisLink({ url, role: 'commands' });
 * await link.connect();
 * const pong = await link.run((c) => c.ping());
 */
export class RedisLink extends EventEmitter<RedisLinkEvents> {
  readonly role: LinkRole;
  /** The URL without its password. */
  readonly safeUrl: string;
  readonly #url: string;
  readonly #watchdog: number;
  readonly #ping: boolean;
  #client: LinkClient;
  #started = false;
  #closed = false;
  #owed = new Map<symbol, number>();
  #lastProgress = Date.now();
  #notReadySince: number | null = null;
  #loaded: LinkClient | null = null;
  /** Counts 'ready' events: a script load answers for the connect that started it only. */
  #connects = 0;
  /** Whether 'up' was the last of 'up'/'down' emitted: each outage is reported once. */
  #up = false;
  #timer: ReturnType<typeof setInterval> | null = null;
  #replacements = 0;

  constructor(options: RedisLinkOptions) {
    super();
    this.role = options.role;
    this.#url = options.url;
    this.safeUrl = redactUrl(options.url);
    this.#watchdog = options.watchdog ?? 10_000;
    this.#ping = options.ping ?? options.role !== 'reader';
    this.#client = this.#newClient();
  }

  /** The current client (a new one after each replacement). */
  get client(): LinkClient {
    return this.#client;
  }

  /** Whether the connection is ready for commands now (connected, scripts loaded). */
  get ready(): boolean {
    return this.#client.isReady && this.#loaded === this.#client;
  }

  /** How many times the watchdog replaced the connection. */
  get replacements(): number {
    return this.#replacements;
  }

  /**
   * Connects and loads the scripts.
   *
   * @throws {Error} naming the URL (without password) when Redis cannot be reached
   */
  async connect(): Promise<void> {
    try {
      await this.#client.connect();
      await this.whenReady();
    } catch (err) {
      if (this.#client.isOpen) this.#client.destroy();
      throw new Error(`cannot reach Redis at ${this.safeUrl} (${this.role} link): ${(err as Error).message}`, { cause: err });
    }
    this.#started = true;
    this.#timer = setInterval(() => this.#check(), Math.max(25, Math.floor(this.#watchdog / 4)));
    this.#timer.unref();
  }

  /**
   * Runs `command` on the current client; the watchdog expects its reply
   * within the bound plus `allowance` ms (a blocking read's block time).
   *
   * @throws whatever the command rejects with (a connection error while Redis is down)
   */
  async run<T>(command: (client: LinkClient) => Promise<T>, allowance = 0): Promise<T> {
    const token = Symbol();
    if (this.#owed.size === 0) this.#lastProgress = Date.now();
    this.#owed.set(token, allowance);
    try {
      return await command(this.#client);
    } finally {
      this.#owed.delete(token);
      this.#lastProgress = Date.now();
    }
  }

  /** Resolves when the connection is ready (at once if it is); rejects when the link closes first. */
  whenReady(): Promise<void> {
    if (this.ready) return Promise.resolve();
    if (this.#closed) return Promise.reject(new Error('the Redis link is closed'));
    return new Promise((resolve, reject) => {
      const onUp = (): void => {
        this.off('closed', onClosed);
        resolve();
      };
      const onClosed = (): void => {
        this.off('up', onUp);
        reject(new Error('the Redis link is closed'));
      };
      this.once('up', onUp);
      this.once('closed', onClosed);
    });
  }

  /** Closes the connection at once; commands owed reject. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    if (this.#client.isOpen) this.#client.destroy();
    this.emit('closed');
  }

  #newClient(): LinkClient {
    const client = makeClient(this.#url, this.#watchdog, this.#ping, () => this.#started);
    client.on('error', (err: Error) => {
      if (client === this.#client) this.#down(new Error(`Redis ${this.role} link to ${this.safeUrl}: ${err.message}`, { cause: err }));
    });
    client.on('ready', () => {
      if (client !== this.#client) return;
      this.#lastProgress = Date.now();
      // Not ready until the scripts are in this Redis: node-redis reconnects
      // the same client, so what was loaded before says nothing now.
      this.#loaded = null;
      this.#connects += 1;
      this.#loadScripts(client, this.#connects, 0);
    });
    client.on('ping-interval', () => {
      this.#lastProgress = Date.now();
    });
    return client;
  }

  // Loaded on every connect: a restarted Redis has no scripts, and
  // pipelined EVALSHAs failing with NOSCRIPT would be retried one by one,
  // out of order with those that found the script loaded meanwhile.
  #loadScripts(client: LinkClient, connect: number, attempt: number): void {
    const current = (): boolean => client === this.#client && connect === this.#connects && client.isReady && !this.#closed;
    Promise.all(Object.values(ALL_SCRIPTS).map((script) => client.scriptLoad(script.SCRIPT))).then(
      () => {
        if (!current()) return;
        this.#loaded = client;
        this.#up = true;
        this.emit('up');
      },
      (err: unknown) => {
        // A connection that failed again reported it through 'error' and
        // loads again at its next 'ready'. One that Redis answered with an
        // error stays connected and gets no other 'ready': a Redis that
        // accepts connections while it loads its dataset answers LOADING,
        // and without a retry this link would stay down for good.
        if (!(err instanceof ErrorReply) || !current()) return;
        const retry = setTimeout(() => {
          if (current()) this.#loadScripts(client, connect, attempt + 1);
        }, backoff(attempt, 1000));
        retry.unref();
      },
    );
  }

  #down(err: Error): void {
    if (!this.#up) return;
    this.#up = false;
    this.emit('down', err);
  }

  #check(): void {
    if (this.#closed) return;
    if (!this.#client.isReady) {
      // A connection whose handshake is never answered (a paused Redis, a
      // proxy that drops packets) stays "connecting" for ever: node-redis
      // times out the TCP connect only, not the HELLO after it.
      const now = Date.now();
      this.#notReadySince ??= now;
      if (now - this.#notReadySince > 2 * this.#watchdog) this.#replace('not ready', false);
      return;
    }
    this.#notReadySince = null;
    if (this.#owed.size === 0 && !this.#ping) return;
    const allowance = Math.max(0, ...this.#owed.values());
    const silent = Date.now() - this.#lastProgress;
    if (silent > this.#watchdog + allowance) this.#replace(`no reply for ${silent} ms`);
  }

  #replace(reason: string, wasReady = true): void {
    const old = this.#client;
    this.#replacements += 1;
    this.#client = this.#newClient();
    this.#lastProgress = Date.now();
    this.#notReadySince = null;
    this.emit('replaced', reason);
    if (wasReady) this.#down(new Error(`Redis ${this.role} link to ${this.safeUrl} stopped answering (${reason}); replaced`));
    // Destroying rejects every command owed on the old connection, so the
    // callers retry them on the new one.
    if (old.isOpen) old.destroy();
    this.#client.connect().catch(() => {
      // The strategy never gives up once started; a failure here means closed.
    });
  }
}
