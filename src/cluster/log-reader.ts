/**
 * Reads the log in order from a position, on the node's blocking link:
 * XREAD BLOCK with COUNT serves both catching up (whole pages at once) and
 * following (one blocking read at a time). Each page is parsed and checked
 * against the sequence: the reader never hands on an entry that does not
 * follow the last one, and stops at the first thing it must not guess at.
 */
import { EventEmitter } from 'node:events';
import type { ClusterKeys } from './cluster-keys.js';
import { idOfSeq, parseEntry, seqOfId, type LogEntry, type ParsedEntry } from './log-entry.js';
import type { LinkClient, RedisLink } from './redis-link.js';

/** Why the reader stopped by itself; the caller resyncs, then starts it again. */
export type ReaderStop =
  /** An entry's seq is not the next one (the log was trimmed past the position, or Redis went backwards). */
  | { readonly reason: 'gap'; readonly expected: number; readonly found: number }
  /** An entry of a format this code does not know: stop rather than misapply. */
  | { readonly reason: 'unknown-format'; readonly seq: number; readonly format: number }
  /** An entry of another epoch: the log was reset under the reader. */
  | { readonly reason: 'wrong-epoch'; readonly seq: number; readonly epoch: string };

/** Events of a {@link LogReader}. */
export interface LogReaderEvents {
  /** Entries in log order, following the last one delivered. */
  entries: [entries: LogEntry[]];
  /** An entry that cannot be read at all: skipped (its seq counts as passed) and reported. */
  junk: [junk: { seq: number; reason: string }];
  /** The reader stopped; see {@link ReaderStop}. */
  stopped: [why: ReaderStop];
}

/** Options of a {@link LogReader}. */
export interface LogReaderOptions {
  /** Entries per read. @default 1000 */
  pageSize?: number;
  /** How long one blocking read waits for new entries, in ms. @default 1000 */
  block?: number;
}

/** When a {@link LogReader} rests between reads (on a cluster node: its `ReadPacing`). Without one it never rests. */
export interface ReaderPacing {
  /** How long (ms) to rest after a read that brought entries, before the next one (0: read at once). */
  pause(): number;
  /** How much longer (ms) to rest when a rest's time is up (0: read now); not asked when {@link LogReader.wake} ended it. */
  restMore(): number;
  /**
   * How long (ms) from now a rest lasts at least, once the entry after the
   * reader's position was applied by other means ({@link LogReader.passed}:
   * the node's own entry, from its append's reply); 0: as it was. Asked in
   * the turn of the event loop the reply woke the node for, so that the
   * reader of a node that keeps writing need not wake by itself.
   */
  restOn(): number;
}

/** Reads a page of the stream with XRANGE: entries with `from <= seq <= to`, at most `count`. */
export async function readPage(client: LinkClient, keys: ClusterKeys, from: number, to: number, count: number): Promise<Array<{ id: string; message: Record<string, string> }>> {
  const toId = Number.isFinite(to) ? idOfSeq(to) : '+';
  return (await client.xRange(keys.log, idOfSeq(from), toId, { COUNT: count })) as Array<{ id: string; message: Record<string, string> }>;
}

/**
 * Follows the log from a position and emits its entries in order.
 *
 * @example
 * const reader = new LogReader(readerLink, keys);
 * reader.on('entries', (entries) => apply(entries));
 * reader.on('stopped', (why) => resync(why));
 * reader.start(epoch, appliedSeq);
 */
export class LogReader extends EventEmitter<LogReaderEvents> {
  readonly #link: RedisLink;
  readonly #keys: ClusterKeys;
  readonly #pageSize: number;
  readonly #block: number;
  #pacing: ReaderPacing | null = null;
  /** Ends the current rest early, if resting. */
  #wake: (() => void) | null = null;
  /** Makes the current rest last at least this many ms from now, if resting. */
  #restOn: ((ms: number) => void) | null = null;
  /** Whether a read is in flight (its reply may bring any entry after the position). */
  #reading = false;
  #epoch = '';
  #position = 0;
  /** The stream id to read after: the position's, or a foreign id skipped as junk after it. */
  #cursor = '0-0';
  #run = 0;
  #running = false;

  constructor(link: RedisLink, keys: ClusterKeys, options: LogReaderOptions = {}) {
    super();
    this.#link = link;
    this.#keys = keys;
    this.#pageSize = options.pageSize ?? 1000;
    this.#block = options.block ?? 1000;
  }

  /** Sets when the reader rests between reads (it reads at once until then). */
  pace(pacing: ReaderPacing): void {
    this.#pacing = pacing;
  }

  /** The seq of the last entry delivered or skipped. */
  get position(): number {
    return this.#position;
  }

  /** Whether the reader is following the log now. */
  get running(): boolean {
    return this.#running;
  }

  /**
   * Follows epoch `epoch` after seq `afterSeq` (0: from its start).
   * Restarting a running reader moves it.
   */
  start(epoch: string, afterSeq: number): void {
    this.#epoch = epoch;
    this.#position = afterSeq;
    this.#cursor = idOfSeq(afterSeq);
    this.#running = true;
    const run = ++this.#run;
    void this.#loop(run);
  }

  /** Stops following; a read in progress ends within the block time, its result dropped. */
  stop(): void {
    this.#running = false;
    this.#run += 1;
    this.wake();
  }

  /** Ends a rest between reads now (something needs the log read promptly). */
  wake(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  /**
   * The entry after the position, `seq`, was applied by other means (this
   * node's own entry, from its append's reply): the next read starts after
   * it, so the node does not read back what it wrote, and a rest under way
   * lasts at least {@link ReaderPacing.restOn} from now. Ignored while a
   * read is in flight (its reply may bring that entry; it is passed over
   * then) or when `seq` does not follow the position.
   */
  passed(seq: number): void {
    if (!this.#running || this.#reading || seq !== this.#position + 1) return;
    this.#position = seq;
    this.#cursor = idOfSeq(seq);
    if (this.#restOn !== null && this.#pacing !== null) this.#restOn(this.#pacing.restOn());
  }

  /** Waits `ms`, or until {@link LogReader.wake}; resolves whether the time ran out (not woken). */
  #rest(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      let end = performance.now() + ms;
      const timeUp = (): void => {
        this.#wake = null;
        this.#restOn = null;
        resolve(true);
      };
      let timer = setTimeout(timeUp, ms);
      this.#wake = () => {
        clearTimeout(timer);
        this.#restOn = null;
        resolve(false);
      };
      this.#restOn = (more) => {
        const now = performance.now();
        if (now + more <= end) return;
        end = now + more;
        clearTimeout(timer);
        timer = setTimeout(timeUp, more);
      };
    });
  }

  async #loop(run: number): Promise<void> {
    while (run === this.#run) {
      let reply;
      try {
        await this.#link.whenReady();
        if (run !== this.#run) return;
        const from = this.#cursor;
        this.#reading = true;
        reply = await this.#link.run(
          (client) => client.xRead({ key: this.#keys.log, id: from }, { COUNT: this.#pageSize, BLOCK: this.#block }),
          this.#block,
        );
        // A read of an earlier run leaves the flag to the run that is reading now.
        if (run === this.#run) this.#reading = false;
      } catch {
        if (run === this.#run) this.#reading = false;
        // The link failed (it reports that itself) or closed; wait for it.
        if (run !== this.#run) return;
        try {
          await this.#link.whenReady();
        } catch {
          return;
        }
        continue;
      }
      if (run !== this.#run) return;
      const messages = (reply as Array<{ messages: Array<{ id: string; message: Record<string, string> }> }> | null)?.[0]?.messages ?? [];
      this.#deliver(messages, run);
      // Each read that brings an entry wakes the node; resting lets entries gather into fewer reads.
      const pacing = this.#pacing;
      if (pacing === null || messages.length === 0) continue;
      let pause = run === this.#run ? pacing.pause() : 0;
      while (pause > 0 && (await this.#rest(pause)) && run === this.#run) pause = pacing.restMore();
    }
  }

  #deliver(messages: Array<{ id: string; message: Record<string, string> }>, run: number): void {
    let page: LogEntry[] = [];
    const flush = (): void => {
      if (page.length > 0) this.emit('entries', page);
      page = [];
    };
    for (const { id, message } of messages) {
      if (run !== this.#run) return;
      const seq = seqOfId(id);
      if (seq !== null && seq !== this.#position + 1) {
        flush();
        return this.#halt({ reason: 'gap', expected: this.#position + 1, found: seq });
      }
      const parsed: ParsedEntry = parseEntry(id, message, seq);
      if (parsed.kind === 'unknown-format') {
        flush();
        return this.#halt({ reason: 'unknown-format', seq: parsed.seq, format: parsed.format });
      }
      if (parsed.kind === 'entry' && parsed.entry.epoch !== this.#epoch) {
        flush();
        return this.#halt({ reason: 'wrong-epoch', seq: parsed.entry.seq, epoch: parsed.entry.epoch });
      }
      if (parsed.kind === 'junk') {
        flush();
        if (seq !== null) this.#position = seq;
        this.#cursor = id;
        this.emit('junk', { seq: parsed.seq, reason: parsed.reason });
        continue;
      }
      this.#position = parsed.entry.seq;
      this.#cursor = id;
      page.push(parsed.entry);
    }
    flush();
  }

  #halt(why: ReaderStop): void {
    this.stop();
    this.emit('stopped', why);
  }
}
