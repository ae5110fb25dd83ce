/**
 * The cluster's log behind the state seam (src/state/state-log.ts): the
 * writes of one synchronous run are batched into one entry (a microtask
 * later; while writes keep coming, those of a short window after the last
 * append: see {@link ClusterLogHooks.linger}), appended once through the
 * log store, and applied in log order,
 * on every node alike, this one included. No optimistic apply: a value a
 * node showed before the log decided could later revert, and no version
 * could name it. Other nodes' entries are applied when read back; this
 * node's own entry is applied when its append's reply says it landed right
 * after the last entry applied here (nothing lies between, so it is the
 * entry the reader would bring next: applied the same way, from a copy of
 * its writes made with its text, equal to what parsing the text gives;
 * see {@link copyWrites}), sparing the writer a wake-up for its own entry. Else it
 * waits for the reader like any other, and the reader passes over what a
 * reply already applied.
 */
import type { JsonValue } from '../json.js';
import { firstRejection, type EntryOutcome, type LogSnapshot, type LogTarget, type StateEntry, type StateLog, type StateWrite } from '../state/state-log.js';
import { ClusterVersions } from './cluster-versions.js';
import { copyWrites, decodeBody, encodeBroadcast, encodeWrites, type EntryBody } from './entry-body.js';
import type { AppendResult } from './log-appender.js';
import type { LogEntry } from './log-entry.js';
import { LINGER_GRACE } from './read-pacing.js';

/** What the log appends through: the log store, or a stand-in in unit tests. */
export interface LogSink {
  append(epoch: string, writeId: string, body: string): Promise<AppendResult>;
  newWriteId(): string;
  /**
   * Whether the reader follows the log now. While it does not (a resync
   * or reset is under way), an append's reply is not applied: the state
   * the node moves to may be older than the reply's entry.
   */
  readonly following: boolean;
  /** Ends the reader's rest between reads: an own entry waits for it. */
  wakeReader(): void;
  /** This node applied its own entry `seq` from the append's reply: the reader need not bring it back. */
  passed(seq: number): void;
}

/** What the log tells its owner. */
export interface ClusterLogHooks {
  /** A broadcast entry was applied (its place in the log: state first, then it). `time` is Redis's clock. */
  onBroadcast(name: string, data: JsonValue, time: number): void;
  /** An entry that is not ours was skipped (on every node alike). */
  onJunk(seq: number, reason: string): void;
  /** An append came back refused for another epoch: the owner resyncs, then {@link ClusterLog.resume}s. */
  onWrongEpoch(): void;
  /** An entry of Redis time `time` was applied, leaving the change record at `position`. */
  onApplied(time: number, position: number): void;
  /**
   * How long (ms) writes may gather after this node's last append before
   * they are appended, as one entry (absent or 0: a microtask later, the
   * writes of one synchronous run). Every append costs the writer a Redis
   * command and its reply (a wake-up) whatever it carries; a node writing
   * every few ms gathers instead. Writes after a quiet spell, writes made
   * while an earlier write's settlement is handled (an `await` chain), and
   * writes someone waits for ({@link ClusterLog.settled}, a broadcast) go
   * at once. docs/cluster.md, "Writing to the log".
   */
  linger?(): number;
}

interface Part {
  readonly start: number;
  readonly count: number;
  resolve(outcome: EntryOutcome): void;
  reject(err: unknown): void;
}

interface Batch {
  readonly writeId: string;
  readonly writes: StateWrite[];
  readonly parts: Part[];
  body: string | null;
  /** What the body decodes to, copied when it was encoded: applied from the append's reply without parsing the body back. */
  decoded: EntryBody | null;
  broadcast: boolean;
  /** The epoch it was last appended to. */
  epoch: string;
  /** The seq its append landed at, once known (then, still waiting, it waits for the reader). */
  seq: number;
  /** Settles (never rejects) once the batch is applied or failed. */
  readonly done: Promise<void>;
  settle(): void;
}

/**
 * One node's replicated log.
 *
 * @example
 * const log = new ClusterLog(store, hooks, { epoch, seq, value })
 * const storage = storageOnLog(log)
 * store.on('entries', (entries) => log.applyEntries(entries))
 */
export class ClusterLog implements StateLog<Promise<EntryOutcome>> {
  readonly versions = new ClusterVersions();
  /** Other nodes' versions resume here too: see {@link StateLog.resumeFromAnyBoundary}. */
  readonly resumeFromAnyBoundary = true;
  readonly #sink: LogSink;
  readonly #hooks: ClusterLogHooks;
  #start: { value: JsonValue; seq: number } | null;
  #target: LogTarget | null = null;
  #open: Batch | null = null;
  /** Batches appended and not yet applied, by write id. */
  readonly #waiting = new Map<string, Batch>();
  /** Batches refused for another epoch, to append again once the new epoch is known. */
  #deferred: Batch[] = [];
  #last: Promise<void> = Promise.resolve();
  /** When (performance.now()) this node last appended. */
  #appendedAt = -Infinity;
  /**
   * The open batch lingers: it goes with the first write after its
   * window, or with this timer when no write comes; null: it goes a
   * microtask later.
   */
  #lingerTimer: ReturnType<typeof setTimeout> | null = null;
  /** When (performance.now()) the lingering batch's window ends. */
  #lingerEnd = 0;
  /** Own writes were settled in this turn of the event loop: a write made now continues an `await` chain. */
  #settling = false;
  readonly #endSettling = (): void => {
    this.#settling = false;
  };

  /** @param start the epoch, the seq its value is at, and the value (it belongs to the storage opened on this log) */
  constructor(sink: LogSink, hooks: ClusterLogHooks, start: { epoch: string; seq: number; value: JsonValue }) {
    this.#sink = sink;
    this.#hooks = hooks;
    this.#start = { value: start.value, seq: start.seq };
    this.versions.restart(start.epoch);
    this.versions.note(start.seq, 0);
  }

  /** The epoch entries are appended to and read from. */
  get epoch(): string {
    return this.versions.epoch;
  }

  /**
   * Whether writes of this node landed and wait for the reader to apply
   * them (their reply found another entry between them and the last one
   * applied). Writes still appending do not: their reply applies them.
   */
  get waitsForReader(): boolean {
    for (const batch of this.#waiting.values()) if (batch.seq > 0) return true;
    return false;
  }

  /** When (performance.now()) this node last appended an entry; -Infinity before the first. */
  get appendedAt(): number {
    return this.#appendedAt;
  }

  /** The seq of the last entry applied (or passed as junk). */
  get seq(): number {
    return this.versions.seq;
  }

  open(target: LogTarget): LogSnapshot {
    if (this.#target !== null || this.#start === null) throw new Error('koa-juggler: a log serves one storage');
    this.#target = target;
    const { value } = this.#start;
    this.#start = null;
    return { value, position: 0 };
  }

  /**
   * Adds `entry`'s writes to this run's batch (appended a microtask later,
   * as one entry). Resolves with their outcomes once this node applied it;
   * rejects with {@link ClusterUnavailableError} when Redis did not take it.
   */
  submit(entry: StateEntry): Promise<EntryOutcome> {
    const batch = this.#batch(false);
    return new Promise((resolve, reject) => {
      batch.parts.push({ start: batch.writes.length, count: entry.length, resolve, reject });
      for (const write of entry) batch.writes.push(write);
    });
  }

  /**
   * One write of `cluster.state` (what `set()`/`remove()` submit): joins
   * this run's batch like {@link ClusterLog.submit}, but settles the
   * caller's promise directly, with no promise in between: resolved once
   * this node applied it, rejected with the write's own refusal or the
   * append's failure, which also goes to `onError` (so a promise nobody
   * awaited never becomes an unhandled rejection). Two thousand writes a
   * second each paid three promises and two reactions before.
   */
  write(write: StateWrite, onError: (err: unknown) => void): Promise<void> {
    const batch = this.#batch(false);
    const start = batch.writes.length;
    batch.writes.push(write);
    let settle!: (outcome: EntryOutcome) => void;
    let fail!: (err: unknown) => void;
    const promise = new Promise<void>((resolve, reject) => {
      // Its slice of the entry's outcome: null, or this one write's refusal.
      settle = (outcome) => (outcome === null ? resolve() : fail(outcome[0]));
      fail = (err) => {
        // Handled before it rejects: onError has it, the caller may still await it.
        promise.catch(onError);
        reject(err);
      };
    });
    batch.parts.push({ start, count: 1, resolve: settle, reject: fail });
    return promise;
  }

  /**
   * Appends a broadcast after this node's earlier writes; resolves once
   * this node applied (delivered) it.
   * @throws TypeError when JSON cannot carry `data`
   */
  broadcast(name: string, data: JsonValue): Promise<void> {
    const body = encodeBroadcast(name, data);
    this.#close();
    const batch = this.#batch(true);
    batch.body = body;
    this.#close();
    return new Promise((resolve, reject) => batch.parts.push({ start: 0, count: 0, resolve: () => resolve(), reject }));
  }

  /** Settles once every write submitted so far is applied or has failed; a lingering batch goes now. */
  settled(): Promise<void> {
    if (this.#lingerTimer !== null) this.#close();
    return this.#open?.done ?? this.#last;
  }

  /**
   * Applies entries read back from the log, in order; passes over those
   * this node already applied (its own, from their append's reply).
   */
  applyEntries(entries: readonly LogEntry[]): void {
    for (const entry of entries) if (entry.seq > this.seq) this.#applyOne(entry);
  }

  /** Notes an entry that was skipped as junk: its seq counts as passed (unless already passed). */
  skip(seq: number, reason: string): void {
    if (seq > 0 && seq <= this.seq) return;
    this.versions.note(seq, this.#target!.position);
    this.#hooks.onJunk(seq, reason);
  }

  /**
   * Moves to `value` as of `seq` in `epoch` (a resync after a gap, or a new
   * epoch): applied as one entry replacing the root, so subscribers get one
   * diff. This node's appends that landed at or before `seq` count as
   * applied; those refused for another epoch are appended again.
   */
  resume(epoch: string, seq: number, value: JsonValue): void {
    const target = this.#target!;
    this.versions.restart(epoch);
    this.versions.applying(seq);
    target.apply([{ kind: 'set', path: [], value }]);
    this.versions.note(seq, target.position);
    for (const [writeId, batch] of this.#waiting) {
      if (batch.seq > 0 && batch.seq <= seq) {
        this.#waiting.delete(writeId);
        this.#settled();
        for (const part of batch.parts) part.resolve(null);
        batch.settle();
      }
    }
    const deferred = this.#deferred;
    this.#deferred = [];
    for (const batch of deferred) this.#append(batch);
  }

  /** Rejects every waiting write with `err` (the cluster is closing). */
  failAll(err: unknown): void {
    const batches = [...this.#waiting.values(), ...this.#deferred];
    if (this.#open) batches.push(this.#open);
    this.#waiting.clear();
    this.#deferred = [];
    this.#open = null;
    if (this.#lingerTimer !== null) clearTimeout(this.#lingerTimer);
    this.#lingerTimer = null;
    for (const batch of batches) this.#fail(batch, err);
  }

  #batch(broadcast: boolean): Batch {
    const open = this.#open;
    if (open !== null) {
      if (this.#lingerTimer !== null && performance.now() >= this.#lingerEnd) {
        // The window is over: the batch goes in this write's own turn of the event loop.
        clearTimeout(this.#lingerTimer);
        this.#lingerTimer = null;
        queueMicrotask(() => this.#close());
      }
      return open;
    }
    let settle!: () => void;
    const done = new Promise<void>((resolve) => (settle = resolve));
    const batch: Batch = { writeId: this.#sink.newWriteId(), writes: [], parts: [], body: null, decoded: null, broadcast, epoch: '', seq: 0, done, settle };
    this.#open = batch;
    this.#last = done;
    if (!broadcast) {
      const linger = this.#hooks.linger?.() ?? 0;
      const now = performance.now();
      const wait = this.#settling ? 0 : this.#appendedAt + linger - now;
      if (wait > 0) {
        // A node that keeps writing sends the batch with its first write
        // after the window, in a turn of the event loop it wakes for
        // anyway; a timer at the window's end would wake it once more per
        // entry. The timer is for writes that stop, a grace later.
        this.#lingerEnd = now + wait;
        this.#lingerTimer = setTimeout(() => this.#close(), wait + linger * LINGER_GRACE);
      } else queueMicrotask(() => this.#close());
    }
    return batch;
  }

  /** Ends the open batch and appends it. */
  #close(): void {
    const batch = this.#open;
    if (batch === null) return;
    this.#open = null;
    if (this.#lingerTimer !== null) {
      clearTimeout(this.#lingerTimer);
      this.#lingerTimer = null;
    }
    if (!batch.broadcast && batch.writes.length === 0) return batch.settle();
    try {
      if (batch.body === null) {
        batch.body = encodeWrites(batch.writes);
        const copy = copyWrites(batch.writes);
        batch.decoded = copy === null ? null : { kind: 'writes', entry: copy };
      }
    } catch (err) {
      // Values were checked at submit; a value changed behind the storage's back since is the caller's misuse.
      return this.#fail(batch, err);
    }
    this.#append(batch);
  }

  #append(batch: Batch): void {
    const epoch = this.epoch;
    batch.epoch = epoch;
    this.#appendedAt = performance.now();
    this.#waiting.set(batch.writeId, batch);
    this.#sink.append(epoch, batch.writeId, batch.body!).then(
      (result) => {
        if (this.#waiting.get(batch.writeId) !== batch) return;
        if (result.status === 'wrong-epoch') {
          this.#waiting.delete(batch.writeId);
          this.#deferred.push(batch);
          this.#hooks.onWrongEpoch();
          return;
        }
        if (batch.seq === 0) batch.seq = result.seq;
        // Landed right after the last entry applied here, in this epoch: it is the next entry, so apply it now.
        // A duplicate's reply has no Redis time (which retention and broadcasts need): the reader brings it.
        if (result.status === 'appended' && result.seq === this.seq + 1 && epoch === this.epoch && this.#sink.following) {
          this.#applyOne({ seq: result.seq, epoch, writeId: batch.writeId, time: result.time, text: batch.body! }, batch.decoded);
          this.#sink.passed(result.seq);
        } else this.#sink.wakeReader();
      },
      (err: unknown) => {
        if (this.#waiting.get(batch.writeId) !== batch) return;
        this.#waiting.delete(batch.writeId);
        this.#fail(batch, err);
      },
    );
  }

  #fail(batch: Batch, err: unknown): void {
    this.#settled();
    for (const part of batch.parts) part.reject(err);
    batch.settle();
  }

  /**
   * Own writes settle now: until this turn of the event loop ends, a new
   * write is taken for the continuation of an awaited one and goes at
   * once, so `for (...) await state.set(...)` never waits out a linger.
   */
  #settled(): void {
    if (this.#settling) return;
    this.#settling = true;
    setImmediate(this.#endSettling);
  }

  /**
   * Applies the next entry in the log, read back or (this node's own) from its append's reply.
   * @param decoded what `entry.text` decodes to, when known (this node's own entry)
   */
  #applyOne(entry: Omit<LogEntry, 'nodeId'>, decoded: EntryBody | null = null): void {
    const body = decoded ?? decodeBody(entry.text);
    if (typeof body === 'string') return this.skip(entry.seq, body);
    const target = this.#target!;
    this.versions.applying(entry.seq);
    const outcome = body.kind === 'writes' ? target.apply(body.entry) : null;
    this.versions.note(entry.seq, target.position);
    this.#hooks.onApplied(entry.time, target.position);
    if (body.kind === 'broadcast') this.#hooks.onBroadcast(body.name, body.data, entry.time);
    const batch = this.#waiting.get(entry.writeId);
    if (batch === undefined || entry.epoch !== this.epoch) return;
    this.#waiting.delete(entry.writeId);
    this.#settled();
    for (const part of batch.parts) part.resolve(slice(outcome, part));
    batch.settle();
  }
}

/** The outcome of one submitter's writes within the entry's outcome. */
function slice(outcome: EntryOutcome, part: Part): EntryOutcome {
  if (outcome === null) return null;
  const mine = outcome.slice(part.start, part.start + part.count);
  return firstRejection(mine) === undefined ? null : mine;
}
