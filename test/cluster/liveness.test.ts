import assert from 'node:assert/strict';
import type { Backwards } from '../../src/cluster/liveness.js';
import { RedisServer } from '../support/redis-server.js';
import { deferred, waitFor } from '../support/wait.js';
import { appendMany, freshName, openStore } from './store-helpers.js';

describe('epoch and liveness (real redis-server)', function () {
  this.timeout(15000);

  it('creates one epoch when two stores claim it at once, seeded by the winner', async () => {
    const redis = await RedisServer.start();
    const name = freshName();
    const [a, b] = await Promise.all([openStore(redis.url, { name }), openStore(redis.url, { name })]);
    const [ra, rb] = await Promise.all([a.claimEpoch({ from: 'a' }), b.claimEpoch({ from: 'b' })]);
    assert.equal(ra.epoch, rb.epoch);
    assert.equal(Number(ra.created) + Number(rb.created), 1);
    const snapshot = await a.readSnapshot();
    assert.deepEqual(snapshot?.value, { from: ra.created ? 'a' : 'b' });
    assert.equal(snapshot?.seq, 0);
    assert.deepEqual(await a.readEpoch(), { epoch: ra.epoch, head: 0 });
  });

  it('replaces only the epoch it names, with a fresh log', async () => {
    const redis = await RedisServer.start();
    const store = await openStore(redis.url);
    const { epoch } = await store.claimEpoch({ v: 0 });
    await appendMany(store, epoch, 3);
    assert.deepEqual(await store.claimEpoch({ v: 1 }, 'someone-else'), { epoch, created: false });
    const next = await store.claimEpoch({ v: 3 }, epoch);
    assert.equal(next.created, true);
    assert.notEqual(next.epoch, epoch);
    assert.deepEqual(await store.readEpoch(), { epoch: next.epoch, head: 0 });
    assert.deepEqual((await store.readSnapshot())?.value, { v: 3 });
    assert.deepEqual((await store.append(next.epoch, 'w', '1')).status, 'appended');
  });

  it('lists live nodes with their applied position, most advanced first, and forgets expired ones', async () => {
    const redis = await RedisServer.start();
    const name = freshName();
    const [a, b] = await Promise.all([openStore(redis.url, { name, nodeTtl: 300 }), openStore(redis.url, { name, nodeTtl: 300 })]);
    const { epoch } = await a.claimEpoch({});
    await appendMany(a, epoch, 9);
    await a.heartbeat({ epoch, seq: 4 });
    await b.heartbeat({ epoch, seq: 9 });
    assert.deepEqual(await a.liveNodes(), [
      { nodeId: b.nodeId, epoch, seq: 9 },
      { nodeId: a.nodeId, epoch, seq: 4 },
    ]);
    await waitFor(async () => (await a.liveNodes()).length === 0, 'the keys to expire', 3000, 50);
  });

  it('finds a different entry at a sequence number the caller applied', async () => {
    const redis = await RedisServer.start();
    const store = await openStore(redis.url);
    const { epoch } = await store.claimEpoch({});
    await store.append(epoch, 'mine', '1');
    assert.equal(await store.checkEntry(epoch, 1, 'mine'), 'same');
    assert.equal(await store.checkEntry(epoch, 1, 'theirs'), 'different');
    assert.equal(await store.checkEntry(epoch, 2, 'mine'), 'missing');
  });

  it('reports the epoch gone after Redis restarted empty', async () => {
    const redis = await RedisServer.start();
    const store = await openStore(redis.url, { nodeTtl: 300 });
    const { epoch } = await store.claimEpoch({});
    await appendMany(store, epoch, 5);
    const backwards = deferred<Backwards>();
    store.on('backwards', backwards.resolve);
    store.startHeartbeat(() => ({ epoch, seq: 5 }));
    await redis.restartEmpty();
    assert.deepEqual(await backwards.promise, { reason: 'epoch-gone' });
  });

  it('keeps the epoch and the log over a restart with the AOF', async () => {
    const redis = await RedisServer.start();
    const store = await openStore(redis.url);
    const { epoch } = await store.claimEpoch({});
    await appendMany(store, epoch, 5);
    await redis.restart();
    await waitFor(() => store.connected, 'the links to reconnect');
    assert.deepEqual(await store.readEpoch(), { epoch, head: 5 });
    const reply = await store.heartbeat({ epoch, seq: 5 });
    assert.deepEqual(reply, { epoch, head: 5 });
  });
});
