import assert from 'node:assert/strict';
import { InvalidArgumentError } from '../../src/errors.js';
import { RedisLogStore } from '../../src/cluster/redis-log-store.js';
import { clusterKeys } from '../../src/cluster/cluster-keys.js';
import { RedisServer } from '../support/redis-server.js';
import { openStore, rawClient } from './store-helpers.js';

describe('RedisLogStore', function () {
  this.timeout(10000);

  describe('options', () => {
    const cases: Array<[string, Record<string, unknown>]> = [
      ['options.url', { url: 'http://127.0.0.1:6379', name: 'a' }],
      ['options.name', { url: 'redis://127.0.0.1:1', name: 'has space' }],
      ['options.nodeId', { url: 'redis://127.0.0.1:1', name: 'a', nodeId: '' }],
      ['options.watchdog', { url: 'redis://127.0.0.1:1', name: 'a', watchdog: 0 }],
      ['options.dedupTtl', { url: 'redis://127.0.0.1:1', name: 'a', writeTimeout: 5000, dedupTtl: 5000 }],
    ];
    for (const [argument, options] of cases) {
      it(`rejects a bad ${argument} with InvalidArgumentError naming it`, async () => {
        await assert.rejects(
          RedisLogStore.open(options as never),
          (err: InvalidArgumentError) => err instanceof InvalidArgumentError && err.argument === argument,
        );
      });
    }
  });

  it('keeps every key under koa-juggler:<name>:', async () => {
    const redis = await RedisServer.start();
    const store = await openStore(redis.url, { name: 'plant' });
    const { epoch } = await store.claimEpoch({});
    await store.append(epoch, store.newWriteId(), '{}');
    await store.acquireLease();
    await store.heartbeat({ epoch, seq: 1 });
    const keys = clusterKeys('plant');
    assert.equal(store.keys.log, keys.log);
    const all = await (await rawClient(redis.url)).keys('*');
    assert.ok(all.length >= 6 && all.every((k) => k.startsWith('koa-juggler:plant:')), all.join(' '));
  });

  it('checks append arguments at once', async () => {
    const redis = await RedisServer.start();
    const store = await openStore(redis.url);
    assert.throws(() => store.append('e', '', '{}'), (err: InvalidArgumentError) => err.argument === 'writeId');
  });
});
