import assert from 'node:assert/strict';
import { ClusterUnavailableError } from '../../src/errors.js';
import { RedisServer } from '../support/redis-server.js';
import { startProxy } from '../support/tcp-proxy.js';
import { waitFor } from '../support/wait.js';
import { appendMany, freshName, openStore, rawClient } from './store-helpers.js';

describe('LogAppender (real redis-server)', function () {
  this.timeout(15000);

  it('appends once per write id: the same id twice returns the first sequence', async () => {
    const redis = await RedisServer.start();
    const store = await openStore(redis.url);
    const { epoch } = await store.claimEpoch({});
    const first = await store.append(epoch, 'w-1', '{"a":1}');
    const again = await store.append(epoch, 'w-1', '{"a":1}');
    assert.deepEqual([first.status, again.status], ['appended', 'duplicate']);
    assert.equal(first.status === 'appended' && again.status === 'duplicate' && first.seq === again.seq, true);
    const raw = await rawClient(redis.url);
    assert.equal(await raw.xLen(store.keys.log), 1);
    const ttl = await raw.pTTL(store.keys.write(epoch, 'w-1'));
    assert.ok(ttl > 0 && ttl <= 60_000, `de-dup record expires (${ttl} ms)`);
  });

  it('refuses an append to another epoch', async () => {
    const redis = await RedisServer.start();
    const store = await openStore(redis.url);
    const { epoch } = await store.claimEpoch({});
    assert.deepEqual(await store.append('not-' + epoch, 'w', '1'), { status: 'wrong-epoch', current: epoch });
  });

  it('appends once when the reply was lost with the connection mid-append', async () => {
    const redis = await RedisServer.start();
    const proxy = await startProxy(redis.port);
    const name = freshName();
    const store = await openStore(`redis://127.0.0.1:${proxy.port}`, { name, watchdog: 2000 });
    const { epoch } = await store.claimEpoch({});
    await appendMany(store, epoch, 3);
    const commands = proxy.connections.at(-3)!; // the links connect in order: commands, reader, control
    const before = commands.toServer;
    redis.pause();
    const pending = store.append(epoch, 'lost-reply', '{"x":1}');
    await waitFor(() => commands.toServer > before, 'the append to reach Redis');
    proxy.cut(); // Redis holds the command in its socket buffer; the reply can never come back
    redis.resume();
    const result = await pending;
    assert.notEqual(result.status, 'wrong-epoch');
    const raw = await rawClient(redis.url);
    const entries = await raw.xRange(store.keys.log, '-', '+');
    const landed = entries.filter((e) => e.message.w === 'lost-reply');
    assert.equal(landed.length, 1, 'exactly one entry for the write id');
    assert.equal(result.status !== 'wrong-epoch' && `${result.seq}-0`, landed[0]!.id);
    assert.deepEqual(entries.map((e) => e.id), ['1-0', '2-0', '3-0', '4-0']);
  });

  it('keeps one gapless sequence across concurrent appends from several stores, each in its own order', async () => {
    const redis = await RedisServer.start();
    const name = freshName();
    const stores = await Promise.all([0, 1, 2].map(() => openStore(redis.url, { name })));
    const { epoch } = await stores[0]!.claimEpoch({});
    await Promise.all(stores.map((s) => appendMany(s, epoch, 400)));
    const raw = await rawClient(redis.url);
    const entries = await raw.xRange(stores[0]!.keys.log, '-', '+');
    assert.deepEqual(entries.map((e) => e.id), Array.from({ length: 1200 }, (_, i) => `${i + 1}-0`));
    for (const store of stores) {
      const own = entries.filter((e) => e.message.n === store.nodeId).map((e) => (JSON.parse(e.message.b!) as { i: number }).i);
      assert.deepEqual(own, Array.from({ length: 400 }, (_, i) => i));
    }
  });

  it('rejects past writeTimeout (sent: false while Redis was never reached) and past maxPendingWrites at once', async () => {
    const redis = await RedisServer.start();
    const store = await openStore(redis.url, { writeTimeout: 300, dedupTtl: 1000, maxPendingWrites: 2 });
    const { epoch } = await store.claimEpoch({});
    await redis.kill();
    await waitFor(() => !store.links.commands.ready, 'the commands link to notice');
    const a = store.append(epoch, 'a', '1');
    const b = store.append(epoch, 'b', '1');
    await assert.rejects(store.append(epoch, 'c', '1'), (err: ClusterUnavailableError) => err instanceof ClusterUnavailableError && err.sent === false);
    await assert.rejects(a, (err: ClusterUnavailableError) => err instanceof ClusterUnavailableError && err.sent === false);
    await assert.rejects(b, ClusterUnavailableError);
  });

  it('waits through an outage and appends in order once Redis is back', async () => {
    const redis = await RedisServer.start();
    const store = await openStore(redis.url, { writeTimeout: 8000 });
    const { epoch } = await store.claimEpoch({});
    await redis.kill();
    await waitFor(() => !store.links.commands.ready, 'the commands link to notice');
    const pending = appendMany(store, epoch, 50);
    await redis.restart();
    const results = await pending;
    assert.deepEqual(results.map((r) => r.status !== 'wrong-epoch' && r.seq), Array.from({ length: 50 }, (_, i) => i + 1));
  });
});
