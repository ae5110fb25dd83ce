import assert from 'node:assert/strict';
import { ClusterUnavailableError, InvalidArgumentError, redisCluster } from '../../src/cluster/index.js';
import { listen, Storage } from '../../src/index.js';
import { useRedis } from '../support/redis-server.js';
import { waitFor } from '../support/wait.js';
import { freshName, node, SECRET } from './cluster-helpers.js';
import { rawClient } from './store-helpers.js';

describe('redisCluster', function () {
  this.timeout(20000);
  const redis = useRedis();

  it('applies a write on every node in log order, with the same version everywhere', async () => {
    const name = freshName();
    const a = await node(redis().url, name, { initial: { points: {} } });
    const b = await node(redis().url, name, { initial: { ignored: true } });
    assert.deepEqual(b.state.data, { points: {} });
    const done = a.state.set(['points', 'p1'], { v: 1 });
    // No optimistic apply: the write shows once its entry is in the log.
    assert.deepEqual(a.state.get(['points', 'p1']), undefined);
    await done;
    assert.deepEqual(a.state.get(['points', 'p1']), { v: 1 });
    await waitFor(() => b.version === a.version, 'node b applied the entry');
    assert.deepEqual(b.state.data, a.state.data);
  });

  it('batches the writes of one synchronous run into one entry', async () => {
    const name = freshName();
    const a = await node(redis().url, name, { initial: {} });
    const writes = [a.state.set('x', 1), a.state.set('y', 2), a.state.remove('x')];
    await Promise.all(writes);
    assert.deepEqual(a.state.data, { y: 2 });
    const raw = await rawClient(redis().url);
    assert.equal(await raw.xLen(`koa-juggler:${name}:log`), 1);
  });

  it('checks arguments synchronously, and rejects a write skipped at its place in the log alone', async () => {
    const a = await node(redis().url, freshName(), { initial: { list: [1, 2] } });
    assert.throws(() => a.state.set([{}] as never, 1), InvalidArgumentError);
    assert.throws(() => a.state.set('a', undefined as never), InvalidArgumentError);
    assert.throws(() => a.state.set('a', new Date() as never), InvalidArgumentError);
    const bad = a.state.set(['list', 'key'], 1);
    const good = a.state.set(['other'], 2);
    await assert.rejects(bad, (err: InvalidArgumentError) => err instanceof InvalidArgumentError && /path\[1\]/.test(err.message));
    await good;
    assert.deepEqual(a.state.data, { list: [1, 2], other: 2 });
  });

  it('rejects at start naming the URL without its password', async () => {
    await assert.rejects(
      redisCluster({ url: 'redis://user:hunter2@127.0.0.1:1', name: 'x', watchdog: 500 }),
      (err: Error) => err.message.includes('127.0.0.1:1') && !err.message.includes('hunter2'),
    );
    await assert.rejects(redisCluster({ url: 'http://x', name: 'x' } as never), (err: InvalidArgumentError) => err.argument === 'options.url');
    await assert.rejects(redisCluster({ url: redis().url, retention: -1 }), (err: InvalidArgumentError) => err.argument === 'options.retention');
  });

  it('listen({ cluster }) refuses state too, and a missing sessionSecret', async () => {
    const a = await node(redis().url, freshName());
    await assert.rejects(listen({ cluster: a, state: new Storage(), sessionSecret: SECRET }), (err: InvalidArgumentError) => err.argument === 'options.state');
    await assert.rejects(listen({ cluster: a }), (err: InvalidArgumentError) => err.argument === 'options.sessionSecret');
    await assert.rejects(listen({ cluster: {} as never, sessionSecret: SECRET }), (err: InvalidArgumentError) => err.argument === 'options.cluster');
  });

  it('rejects writes past maxPendingWrites and writeTimeout with ClusterUnavailableError; an unawaited one never crashes', async () => {
    const own = redis();
    const a = await node(own.url, freshName(), { initial: {}, writeTimeout: 300, maxPendingWrites: 1 });
    own.pause();
    try {
      const first = a.state.set('a', 1);
      await Promise.resolve();
      const second = a.state.set('b', 2);
      void a.state.set('c', 3); // nobody awaits this one: it must not become an unhandled rejection
      await assert.rejects(second, (err: ClusterUnavailableError) => err instanceof ClusterUnavailableError);
      await assert.rejects(first, (err: ClusterUnavailableError) => err instanceof ClusterUnavailableError);
      await waitFor(() => a.errors.some((e) => e instanceof ClusterUnavailableError), 'the rejection reported to onError');
    } finally {
      own.resume();
    }
  });
});
