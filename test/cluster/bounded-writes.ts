/**
 * A run of writes through one cluster node, measuring what Redis keeps as
 * it goes, for the bounded-memory tests (short in npm test, long in npm run
 * soak). The bounds come from the options, not from the number of writes:
 * - the stream holds the entries since the newest snapshot (at most
 *   `snapshotInterval`, plus what was written while a snapshot was being
 *   taken) and those within `retention`;
 * - besides the write-id records, the cluster's keys are a fixed set;
 * - write-id records all expire (TTL at most the dedup window), so they
 *   number at most the entries of that window.
 */
import assert from 'node:assert/strict';
import { freshName, node } from './cluster-helpers.js';
import { rawClient } from './store-helpers.js';

/** How long write-id records last (redisCluster: max(60 s, 2 x writeTimeout), writeTimeout 10 s). */
const DEDUP_WINDOW = 60_000;
/** Time a snapshot may take to come round on a loaded machine: entries written in it may be in the stream too. */
const SNAPSHOT_SLACK = 2000;

export interface BoundedRun {
  writes: number;
  snapshotInterval: number;
  retention: number;
  /** Called after each measurement (the soak prints them). */
  onMeasure?: (m: { writes: number; streamLength: number; fixedKeys: number; writeIds: number; usedMemory: number }) => void;
}

/** Writes `writes` one-leaf changes one after another, checking the bounds every 1,000. */
export async function runBoundedWrites(url: string, run: BoundedRun): Promise<void> {
  const name = freshName();
  const a = await node(url, name, { initial: { k: {} }, snapshotInterval: run.snapshotInterval, retention: run.retention });
  const raw = await rawClient(url);
  const times: number[] = [];
  const since = (ms: number): number => {
    const from = Date.now() - ms;
    let n = 0;
    for (let i = times.length - 1; i >= 0 && times[i]! >= from; i--) n++;
    return n;
  };
  for (let i = 1; i <= run.writes; i++) {
    await a.state.set(['k', String(i % 100)], i);
    times.push(Date.now());
    if (i % 1000 !== 0) continue;
    const streamLength = await raw.xLen(`koa-juggler:${name}:log`);
    const keys = await raw.keys(`koa-juggler:${name}:*`);
    const writeIds = keys.filter((k) => k.includes(':w:')).length;
    const fixedKeys = keys.length - writeIds;
    const usedMemory = Number(/used_memory:(\d+)/.exec(await raw.info('memory'))![1]);
    run.onMeasure?.({ writes: i, streamLength, fixedKeys, writeIds, usedMemory });
    const streamBound = run.snapshotInterval + since(run.retention + SNAPSHOT_SLACK);
    assert.ok(streamLength <= streamBound, `after ${i} writes the stream holds ${streamLength} entries (bound ${streamBound})`);
    assert.ok(fixedKeys <= 8, `after ${i} writes ${fixedKeys} keys besides write ids: ${keys.filter((k) => !k.includes(':w:')).join(' ')}`);
    const idBound = since(DEDUP_WINDOW + SNAPSHOT_SLACK);
    assert.ok(writeIds <= idBound, `after ${i} writes ${writeIds} write-id records (bound ${idBound})`);
  }
  const sample = await raw.keys(`koa-juggler:${name}:w:*`);
  for (const key of sample.slice(-20)) {
    const ttl = await raw.pTTL(key);
    assert.ok(ttl > 0 && ttl <= DEDUP_WINDOW, `write-id record ${key} expires (${ttl} ms)`);
  }
  assert.deepEqual(a.state.data, { k: Object.fromEntries(Array.from({ length: 100 }, (_, j) => [String(j), run.writes - ((run.writes - j) % 100)])) });
}
