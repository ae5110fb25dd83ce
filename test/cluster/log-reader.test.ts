import assert from 'node:assert/strict';
import type { LogEntry } from '../../src/cluster/log-entry.js';
import type { ReaderPacing, ReaderStop } from '../../src/cluster/log-reader.js';
import type { RedisLogStore } from '../../src/cluster/redis-log-store.js';
import { RedisServer } from '../support/redis-server.js';
import { deferred, delay, waitFor } from '../support/wait.js';
import { appendMany, openStore, rawClient } from './store-helpers.js';

/** Writes a raw entry at the next sequence number, as a foreign writer would. */
async function appendRaw(url: string, store: RedisLogStore, fields: Record<string, string>): Promise<void> {
  const raw = await rawClient(url);
  const seq = await raw.hIncrBy(store.keys.epoch, 'seq', 1);
  await raw.xAdd(store.keys.log, `${seq}-0`, fields);
}

function collect(store: RedisLogStore): LogEntry[] {
  const seen: LogEntry[] = [];
  store.on('entries', (entries) => seen.push(...entries));
  return seen;
}

/** A store following its log with these rests, once its first entry was read (its reader rests now). */
async function restingAfterOne(pacing: ReaderPacing): Promise<{ store: RedisLogStore; epoch: string; seen: LogEntry[] }> {
  const redis = await RedisServer.start();
  const store = await openStore(redis.url);
  store.pace(pacing);
  const { epoch } = await store.claimEpoch({});
  const seen = collect(store);
  store.follow(epoch, 0);
  await appendMany(store, epoch, 1);
  await waitFor(() => seen.length === 1, 'the first entry');
  return { store, epoch, seen };
}

describe('LogReader (real redis-server)', function () {
  this.timeout(15000);

  it('delivers entries in order, across pages, then follows new ones', async () => {
    const redis = await RedisServer.start();
    const store = await openStore(redis.url, { pageSize: 50 });
    const { epoch } = await store.claimEpoch({});
    await appendMany(store, epoch, 230);
    const seen = collect(store);
    const pages: number[] = [];
    store.on('entries', (entries) => pages.push(entries.length));
    store.follow(epoch, 0);
    await waitFor(() => seen.length === 230, '230 entries');
    assert.ok(pages.every((n) => n <= 50) && pages.length >= 5, `pages of at most 50 (${pages.join(',')})`);
    await appendMany(store, epoch, 20, 230);
    await waitFor(() => seen.length === 250, '250 entries');
    assert.deepEqual(seen.map((e) => e.seq), Array.from({ length: 250 }, (_, i) => i + 1));
    assert.deepEqual(seen.map((e) => (JSON.parse(e.text) as { i: number }).i), Array.from({ length: 250 }, (_, i) => i));
    assert.equal(seen[0]!.nodeId, store.nodeId);
  });

  it('rests after a read that brought entries, and does not read back an entry passed meanwhile', async () => {
    // A long rest: the append below must land within it, even on a machine in a slow spell.
    const { store, epoch, seen } = await restingAfterOne({ pause: () => 1000, restMore: () => 0, restOn: () => 0 });
    const rested = performance.now();
    // Resting: entry 2, applied elsewhere (as a writer applies its own from the append's reply), is passed.
    await appendMany(store, epoch, 1, 1);
    store.passed(2);
    assert.equal(store.followPosition, 2);
    // Not the entry after the position: ignored.
    store.passed(5);
    assert.equal(store.followPosition, 2);
    await appendMany(store, epoch, 1, 2);
    await waitFor(() => seen.length === 2, 'the entry after the rest');
    assert.ok(performance.now() - rested >= 900, 'read only once the rest was over');
    assert.deepEqual(seen.map((e) => e.seq), [1, 3]);
    assert.equal(store.followPosition, 3);
  });

  it('rests on while restMore() says so when the time is up, and not when woken', async () => {
    let asked = 0;
    // Rests long enough that a slow machine's stall cannot pass for one (or hide that one was skipped).
    const { store, epoch, seen } = await restingAfterOne({ pause: () => 400, restMore: () => (++asked <= 2 ? 400 : 0), restOn: () => 0 });
    const rested = performance.now();
    await appendMany(store, epoch, 1, 1);
    await waitFor(() => seen.length === 2, 'the entry after three rests');
    assert.ok(performance.now() - rested >= 1100, `three rests of 400 ms, not ${(performance.now() - rested).toFixed(0)}`);
    assert.equal(asked, 3);
    // Woken: the read goes at once, and restMore() is not asked.
    await appendMany(store, epoch, 1, 2);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const woken = performance.now();
    store.wakeReader();
    await waitFor(() => seen.length === 3, 'the entry read once woken');
    assert.ok(performance.now() - woken < 300, 'woken, the reader did not wait for its rest');
    assert.equal(asked, 3);
  });

  it('rests on for restOn() from an entry passed while resting, without waking by itself before', async () => {
    let asked = 0;
    // The first rest is long enough for the append and passed() below to land within it on a slow machine.
    const { store, epoch, seen } = await restingAfterOne({ pause: () => 1000, restMore: () => (++asked, 0), restOn: () => 2500 });
    await appendMany(store, epoch, 1, 1);
    store.passed(2);
    const passed = performance.now();
    // Another node's entry, which only a read brings.
    await appendMany(store, epoch, 1, 2);
    await delay(1500);
    assert.equal(seen.length, 1, 'still resting, past the rest planned before the entry was passed');
    assert.equal(asked, 0, 'the reader did not wake to ask whether to rest on');
    await waitFor(() => seen.length === 2, 'the entry after the longer rest');
    assert.ok(performance.now() - passed >= 2400, `read ${(performance.now() - passed).toFixed(0)} ms after the entry was passed`);
    assert.equal(asked, 1, 'asked once, when the longer rest was over');
    assert.deepEqual(seen.map((e) => e.seq), [1, 3]);
  });

  it('reads a range of sequence numbers back in pages', async () => {
    const redis = await RedisServer.start();
    const store = await openStore(redis.url, { pageSize: 7 });
    const { epoch } = await store.claimEpoch({});
    await appendMany(store, epoch, 40);
    const seqs: number[] = [];
    for await (const page of store.readRange(5, 30)) {
      assert.ok(page.length <= 7);
      for (const p of page) seqs.push(p.kind === 'entry' ? p.entry.seq : -1);
    }
    assert.deepEqual(seqs, Array.from({ length: 26 }, (_, i) => i + 5));
  });

  it('reports a gap when the log was trimmed past its position, and stops', async () => {
    const redis = await RedisServer.start();
    const store = await openStore(redis.url);
    const { epoch } = await store.claimEpoch({});
    await appendMany(store, epoch, 100);
    assert.equal(await store.acquireLease(), true);
    assert.deepEqual(await store.writeSnapshot(epoch, 60, { at: 60 }), { status: 'written' });
    assert.equal(await store.trim(0), 59);
    const stopped = deferred<ReaderStop>();
    store.on('stopped', stopped.resolve);
    const seen = collect(store);
    store.follow(epoch, 10);
    assert.deepEqual(await stopped.promise, { reason: 'gap', expected: 11, found: 60 });
    assert.equal(seen.length, 0);
  });

  it('skips entries whose fields cannot be read, hands on bodies unparsed, and stops at an unknown format', async () => {
    const redis = await RedisServer.start();
    const store = await openStore(redis.url);
    const { epoch } = await store.claimEpoch({});
    await appendMany(store, epoch, 2);
    await appendRaw(redis.url, store, { f: '1', e: epoch, n: 'x', w: 'j1', t: '1', b: '{not json' });
    await appendRaw(redis.url, store, { nonsense: 'yes' });
    await appendMany(store, epoch, 2, 2);
    await appendRaw(redis.url, store, { f: '2', e: epoch, n: 'x', w: 'f2', t: '1', b: '{}' });
    await appendMany(store, epoch, 1, 4);
    const seen = collect(store);
    const junk: Array<{ seq: number; reason: string }> = [];
    store.on('junk', (j) => junk.push(j));
    const stopped = deferred<ReaderStop>();
    store.on('stopped', stopped.resolve);
    store.follow(epoch, 0);
    assert.deepEqual(await stopped.promise, { reason: 'unknown-format', seq: 7, format: 2 });
    // A body that is not JSON is the applier's to find (it decodes bodies; the reader never parses them).
    assert.deepEqual(seen.map((e) => e.seq), [1, 2, 3, 5, 6]);
    assert.equal(seen[2]!.text, '{not json');
    assert.deepEqual(junk.map((j) => j.seq), [4]);
    assert.equal(store.followPosition, 6);
  });
});
