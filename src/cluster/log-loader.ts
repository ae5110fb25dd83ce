/**
 * Loading the cluster's current value from Redis: the newest snapshot, then
 * the log after it, in pages, replayed on a scratch storage by the same
 * rules every node applies entries with. What a late node starts from,
 * and what a node resyncs to after a gap or a new epoch.
 */
import { InvalidArgumentError } from '../errors.js';
import type { JsonValue } from '../json.js';
import { Storage } from '../state/storage.js';
import { decodeBody } from './entry-body.js';
import type { RedisLogStore } from './redis-log-store.js';

/** The value as of `seq` in `epoch`, and what replaying met on the way. */
export interface LoadedState {
  readonly epoch: string;
  readonly seq: number;
  readonly value: JsonValue;
  /** Broadcasts in the replayed entries, in order, with Redis's time. */
  readonly broadcasts: ReadonlyArray<{ name: string; data: JsonValue; time: number }>;
  /** Entries skipped as junk. */
  readonly junk: ReadonlyArray<{ seq: number; reason: string }>;
}

/** Loading met an entry or snapshot of a format this code does not know. */
export class UnknownFormatError extends Error {
  constructor(what: string, format: number) {
    super(`${what} has format ${format}, which this version of koa-juggler does not know: not applying it (upgrade this node)`);
    this.name = 'UnknownFormatError';
  }
}

/**
 * Loads epoch `epoch`'s current value. Retries when the log was trimmed
 * between reading the snapshot and the entries after it.
 *
 * @param holdFrom Redis time (ms): replaying stops before the first entry
 *   this young, and the value is the one just before it. The node then
 *   applies the rest as it applies any entry, so its change record holds
 *   them and a client may resume from any of their versions. Absent: the
 *   whole log is replayed here.
 * @throws UnknownFormatError for a snapshot or entry of an unknown format
 * @throws Error when the epoch in Redis is another one, or Redis fails
 */
export async function loadState(store: RedisLogStore, epoch: string, holdFrom = Infinity): Promise<LoadedState> {
  for (let attempt = 0; ; attempt++) {
    const snapshot = await store.readSnapshot();
    if (snapshot === null || snapshot.epoch !== epoch) throw new Error(`the epoch in Redis is no longer ${epoch}`);
    if (snapshot.value === undefined) throw new UnknownFormatError('the snapshot', snapshot.format);
    const scratch = new Storage(snapshot.value as JsonValue);
    const broadcasts: Array<{ name: string; data: JsonValue; time: number }> = [];
    const junk: Array<{ seq: number; reason: string }> = [];
    let seq = snapshot.seq;
    let gap = false;
    pages: for await (const page of store.readRange(seq + 1)) {
      for (const parsed of page) {
        const at = parsed.kind === 'entry' ? parsed.entry.seq : parsed.seq;
        if (at !== seq + 1) {
          gap = true;
          break pages;
        }
        if (parsed.kind === 'entry' && parsed.entry.time >= holdFrom) break pages;
        seq = at;
        if (parsed.kind === 'unknown-format') throw new UnknownFormatError(`log entry ${at}`, parsed.format);
        if (parsed.kind === 'junk') {
          junk.push({ seq: at, reason: parsed.reason });
          continue;
        }
        if (parsed.entry.epoch !== epoch) throw new Error(`the epoch in Redis is no longer ${epoch}`);
        const body = decodeBody(parsed.entry.text);
        if (typeof body === 'string') junk.push({ seq: at, reason: body });
        else if (body.kind === 'broadcast') broadcasts.push({ name: body.name, data: body.data, time: parsed.entry.time });
        else replay(scratch, body.entry);
      }
    }
    if (!gap) return { epoch, seq, value: scratch.data, broadcasts, junk };
    if (attempt >= 5) throw new Error('the log kept moving past its snapshot while loading');
  }
}

/** Applies an entry's writes as a node applies them: each by Storage's rules, a refused one skipped. */
function replay(storage: Storage, writes: ReadonlyArray<{ kind: 'set' | 'remove'; path: readonly (string | number)[]; value?: JsonValue }>): void {
  for (const write of writes) {
    try {
      if (write.kind === 'set') storage.set(write.path, write.value!);
      else storage.remove(write.path);
    } catch (err) {
      if (!(err instanceof InvalidArgumentError)) throw err;
    }
  }
}
