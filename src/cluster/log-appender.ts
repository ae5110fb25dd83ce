/**
 * Appends entries in order, exactly once, through an outage.
 *
 * Appends are pipelined on the commands link (up to `maxInFlight` at
 * once). When the connection fails, every append owed on it is sent again,
 * in the original order, with its original write id once the link is back:
 * the APPEND script returns the first append's sequence number for a write
 * id that already landed, so a lost reply never appends twice, and since
 * Redis runs one connection's commands in order, nothing later can have
 * landed before something earlier that did not.
 */
import { ErrorReply } from 'redis';
import { ClusterUnavailableError, InvalidArgumentError } from '../errors.js';
import type { ClusterKeys } from './cluster-keys.js';
import { LOG_FORMAT } from './log-entry.js';
import type { RedisLink } from './redis-link.js';

/** What an append came to. */
export type AppendResult =
  /** Appended now, at `seq`, at Redis time `time` (ms). */
  | { readonly status: 'appended'; readonly seq: number; readonly time: number }
  /** This write id had already landed in this epoch, at `seq` (a retry after a lost reply). */
  | { readonly status: 'duplicate'; readonly seq: number }
  /** Refused: the epoch in Redis is `current` (null: none), not the one the append named. */
  | { readonly status: 'wrong-epoch'; readonly current: string | null };

/** Options of a {@link LogAppender}. */
export interface LogAppenderOptions {
  nodeId: string;
  /** How long an append may wait for Redis before it rejects, in ms. @default 10000 */
  writeTimeout?: number;
  /** Appends waiting at once; beyond, an append rejects at once. @default 100000 */
  maxPendingWrites?: number;
  /** Appends sent and not yet answered, at most. @default 256 */
  maxInFlight?: number;
  /** How long Redis keeps a write id's de-duplication record, in ms; must exceed `writeTimeout`. @default 60000 */
  dedupTtl?: number;
}

interface Pending {
  /** Absolute position in this appender's queue (never reused). */
  readonly n: number;
  readonly epoch: string;
  readonly writeId: string;
  /** Emptied once done: a done item may stay in the queue's array for a while (see #finish), its body need not. */
  body: string;
  readonly deadline: number;
  inFlight: boolean;
  sent: boolean;
  done: boolean;
  resolve(result: AppendResult): void;
  reject(err: Error): void;
}

type ScriptReply = [string, number | string, number?];

/**
 * The ordered, exactly-once append queue of one node.
 *
 * @example
 * const appender = new LogAppender(link, keys, { nodeId: 'n1' });
 * const result = await appender.append(epoch, 'n1:1', JSON.stringify(change));
 */
export class LogAppender {
  readonly #link: RedisLink;
  readonly #keys: ClusterKeys;
  readonly #nodeId: string;
  readonly #writeTimeout: number;
  readonly #maxPending: number;
  readonly #maxInFlight: number;
  readonly #dedupTtl: number;
  // A FIFO as an array with a moving head (shift() on a long array is
  // O(n) per append); items settled out of order are marked done in place.
  #items: Pending[] = [];
  /** Absolute position of #items[0]. */
  #base = 0;
  /** Absolute position of the oldest item not done. */
  #head = 0;
  /** Absolute position of the next item to send. */
  #next = 0;
  #live = 0;
  #inFlight = 0;
  #counter = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #closed = false;
  readonly #onUp = (): void => this.#pump();

  constructor(link: RedisLink, keys: ClusterKeys, options: LogAppenderOptions) {
    this.#link = link;
    this.#keys = keys;
    this.#nodeId = options.nodeId;
    this.#writeTimeout = options.writeTimeout ?? 10_000;
    this.#maxPending = options.maxPendingWrites ?? 100_000;
    this.#maxInFlight = options.maxInFlight ?? 256;
    this.#dedupTtl = options.dedupTtl ?? 60_000;
    if (this.#dedupTtl <= this.#writeTimeout) {
      throw new InvalidArgumentError('options.dedupTtl', `more than writeTimeout (${this.#writeTimeout} ms)`, this.#dedupTtl);
    }
    link.on('up', this.#onUp);
  }

  /** Appends waiting for Redis (sent or not). */
  get pending(): number {
    return this.#live;
  }

  /**
   * Appends one entry to epoch `epoch`, after every append this node asked
   * for before it.
   *
   * @param writeId unique per write (a retry of the same write reuses it)
   * @param body the entry's body, JSON text
   * @throws {InvalidArgumentError} when an argument is not a non-empty string
   * @throws {ClusterUnavailableError} (rejection) past `writeTimeout` or `maxPendingWrites`; `sent` says whether it may still land
   */
  append(epoch: string, writeId: string, body: string): Promise<AppendResult> {
    for (const [name, value] of [['epoch', epoch], ['writeId', writeId], ['body', body]] as const) {
      if (typeof value !== 'string' || value === '') throw new InvalidArgumentError(name, 'a non-empty string', value);
    }
    if (this.#closed) return Promise.reject(new ClusterUnavailableError('the log store is closed', { sent: false }));
    if (this.#live >= this.#maxPending) {
      return Promise.reject(new ClusterUnavailableError(`${this.#maxPending} writes already wait for Redis`, { sent: false }));
    }
    return new Promise((resolve, reject) => {
      const deadline = Date.now() + this.#writeTimeout;
      const n = this.#counter++;
      this.#items.push({ n, epoch, writeId, body, deadline, inFlight: false, sent: false, done: false, resolve, reject });
      this.#live += 1;
      this.#armTimer();
      this.#pump();
    });
  }

  /** Rejects every waiting append (`sent` as it stands) and stops. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#link.off('up', this.#onUp);
    if (this.#timer) clearTimeout(this.#timer);
    for (const item of this.#items) if (!item.done) this.#finish(item, null, 'the log store closed');
  }

  #at(n: number): Pending | undefined {
    return this.#items[n - this.#base];
  }

  #pump(): void {
    if (this.#closed || !this.#link.ready) return;
    while (this.#inFlight < this.#maxInFlight) {
      const item = this.#at(this.#next);
      if (!item) return;
      // Still owed on a failed connection: its rejection comes, then this goes again.
      if (item.inFlight) return;
      this.#next += 1;
      if (!item.done) this.#send(item);
    }
  }

  #send(item: Pending): void {
    item.inFlight = true;
    item.sent = true;
    this.#inFlight += 1;
    const keys = [this.#keys.epoch, this.#keys.log, this.#keys.write(item.epoch, item.writeId)];
    const args = [item.epoch, this.#nodeId, item.writeId, item.body, LOG_FORMAT, this.#dedupTtl];
    this.#link.run((client) => client.append(keys, args) as Promise<unknown>).then(
      (reply) => {
        this.#inFlight -= 1;
        item.inFlight = false;
        if (!item.done) this.#finish(item, toResult(reply as ScriptReply));
        this.#pump();
      },
      (err: unknown) => {
        this.#inFlight -= 1;
        item.inFlight = false;
        if (err instanceof ErrorReply) {
          // Redis answered and refused (OOM, a script error): it is not
          // lost, so sending it again would not change the answer.
          if (!item.done) this.#finish(item, null, `Redis refused the append: ${err.message}`, err);
        } else if (!item.done) {
          // The connection failed: everything owed on it fails alike and
          // goes again, from the oldest, once the link is up.
          this.#next = Math.min(this.#next, item.n);
        }
        this.#pump();
      },
    );
  }

  #finish(item: Pending, result: AppendResult | null, why = '', cause?: unknown): void {
    item.done = true;
    item.body = '';
    this.#live -= 1;
    if (result) item.resolve(result);
    else {
      const sent = item.sent;
      item.reject(new ClusterUnavailableError(`${why}; the write ${sent ? 'may still land' : 'was never sent'}`, { sent, cause }));
    }
    while (this.#at(this.#head)?.done) this.#head += 1;
    if (this.#next < this.#head) this.#next = this.#head;
    const drop = this.#head - this.#base;
    if (drop > 1024 && drop * 2 > this.#items.length) {
      this.#items = this.#items.slice(drop);
      this.#base = this.#head;
    }
  }

  // Deadlines come in queue order (one timeout for all), so one timer on the oldest does.
  #armTimer(): void {
    const oldest = this.#at(this.#head);
    if (this.#timer || !oldest) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      const now = Date.now();
      for (let item = this.#at(this.#head); item && item.deadline <= now; item = this.#at(this.#head)) {
        this.#finish(item, null, `Redis did not take the write within ${this.#writeTimeout} ms`);
      }
      this.#armTimer();
    }, Math.max(0, oldest.deadline - Date.now()));
  }
}

function toResult(reply: ScriptReply): AppendResult {
  const [status, a, b] = reply;
  if (status === 'ok') return { status: 'appended', seq: Number(a), time: Number(b) };
  if (status === 'dup') return { status: 'duplicate', seq: Number(a) };
  return { status: 'wrong-epoch', current: a ? String(a) : null };
}
