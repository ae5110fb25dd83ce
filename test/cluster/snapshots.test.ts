import assert from 'node:assert/strict';
import { RedisServer } from '../support/redis-server.js';
import { delay, waitFor } from '../support/wait.js';
import { appendMany, freshName, openStore, rawClient } from './store-helpers.js';

describe('snapshots, lease and trim (real redis-server)', function () {
  this.timeout(15000);

  it('gives the lease to one node at a time, and to another once the holder stops renewing', async () => {
    const redis = await RedisServer.start();
    const name = freshName();
    const a = await openStore(redis.url, { name, leaseTtl: 400 });
    const b = await openStore(redis.url, { name, leaseTtl: 400 });
    const { epoch } = await a.claimEpoch({});
    await appendMany(a, epoch, 5);
    assert.equal(await a.acquireLease(), true);
    assert.equal(await b.acquireLease(), false);
    assert.equal(await a.acquireLease(), true, 'the holder renews');
    assert.deepEqual(await b.writeSnapshot(epoch, 5, { by: 'b' }), { status: 'not-holder' });
    const started = Date.now();
    await waitFor(() => b.acquireLease(), 'b to take the lease over', 3000, 50);
    assert.ok(Date.now() - started >= 250, 'not before the lease expired');
    assert.deepEqual(await a.writeSnapshot(epoch, 5, { by: 'a' }), { status: 'not-holder' });
    assert.deepEqual(await b.writeSnapshot(epoch, 5, { by: 'b' }), { status: 'written' });
    assert.deepEqual(await b.writeSnapshot(epoch, 4, { by: 'b' }), { status: 'older', seq: 5 });
    assert.deepEqual(await b.writeSnapshot(epoch, 9, { by: 'b' }), { status: 'ahead', head: 5 });
    const snapshot = await a.readSnapshot();
    assert.deepEqual(snapshot && { epoch: snapshot.epoch, seq: snapshot.seq, value: snapshot.value }, { epoch, seq: 5, value: { by: 'b' } });
  });

  it('trims behind both the snapshot and the retention window', async () => {
    const redis = await RedisServer.start();
    const store = await openStore(redis.url);
    const { epoch } = await store.claimEpoch({});
    await appendMany(store, epoch, 100);
    // The first 100 entries age past the retention below; the next 100 stay inside it (a second of slack for a slow machine).
    await delay(1500);
    await appendMany(store, epoch, 100, 100);
    assert.equal(await store.acquireLease(), true);
    await store.writeSnapshot(epoch, 50, {});
    const raw = await rawClient(redis.url);
    assert.equal(await store.trim(1000), 49, 'not past the snapshot');
    assert.equal((await raw.xRange(store.keys.log, '-', '+', { COUNT: 1 }))[0]!.id, '50-0');
    await store.writeSnapshot(epoch, 180, {});
    assert.equal(await store.trim(1000), 51, 'not into the retention window');
    assert.equal((await raw.xRange(store.keys.log, '-', '+', { COUNT: 1 }))[0]!.id, '101-0');
    assert.equal(await raw.xLen(store.keys.log), 100);
  });
});
