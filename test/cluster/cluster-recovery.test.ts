import assert from 'node:assert/strict';
import { EXTENSION_PROTOCOL } from '../../src/protocol/messages.js';
import { RawClient } from '../support/raw-client.js';
import { useRedis } from '../support/redis-server.js';
import { waitFor } from '../support/wait.js';
import { freshName, node, serve } from './cluster-helpers.js';
import { rawClient } from './store-helpers.js';

describe('cluster recovery', function () {
  this.timeout(30000);
  const redis = useRedis();

  it('snapshots and trims; a node started after the trim loads the exact value; Redis stays bounded', async () => {
    const name = freshName();
    const a = await node(redis().url, name, { initial: { n: 0 }, snapshotInterval: 20, retention: 0 });
    for (let i = 1; i <= 300; i++) await a.state.set('n', i);
    const raw = await rawClient(redis().url);
    await waitFor(async () => (await raw.xLen(`koa-juggler:${name}:log`)) <= 40, 'the log trimmed behind the snapshot');
    const late = await node(redis().url, name, { initial: { ignored: true } });
    assert.deepEqual(late.state.data, { n: 300 });
    assert.equal(late.version, a.version);
    // Besides the write-id records (one per entry of the last dedupTtl, expiring), a fixed set of keys.
    const keys = (await raw.keys(`koa-juggler:${name}:*`)).filter((k) => !k.includes(':w:'));
    assert.ok(keys.length <= 8, keys.join(' '));
    const ttl = await raw.pTTL((await raw.keys(`koa-juggler:${name}:w:*`))[0]!);
    assert.ok(ttl > 0 && ttl <= 60_000, `write-id records expire (${ttl} ms)`);
  });

  it('a node that finds a gap resyncs, and its clients end on the exact value', async () => {
    const name = freshName();
    const a = await node(redis().url, name, { initial: { n: 0 }, snapshotInterval: 10, retention: 0 });
    const b = await node(redis().url, name, { snapshotInterval: 1e9 });
    const server = await serve(b);
    const client = await RawClient.connect(`ws://127.0.0.1:${server.port}/ws`, { protocols: [EXTENSION_PROTOCOL] });
    client.send({ type: 'hello', session: null, version: null });
    await client.next((m) => m.type === 'state');
    // b stops reading (as if stopped), the log is trimmed past it, then it reads on.
    b.store.stopFollowing();
    const at = b.version;
    for (let i = 1; i <= 100; i++) await a.state.set(['n'], i);
    const raw = await rawClient(redis().url);
    await waitFor(async () => (await raw.xLen(`koa-juggler:${name}:log`)) < 50, 'the log trimmed past b');
    b.store.follow(at.split('.')[0]!, Number(at.split('.')[1]));
    await waitFor(() => b.version === a.version, 'b resynced');
    assert.deepEqual(b.state.data, { n: 100 });
    assert.ok(b.errors.some((e) => /gap/.test(e.message)), 'the gap is reported');
    await client.next((m) => m.type === 'state' && m.version === a.version);
  });

  it('Redis restarted empty: the cluster carries on from the most advanced node under a new epoch; an old version gets the exact value', async () => {
    const name = freshName();
    const a = await node(redis().url, name, { initial: { n: 0 } });
    const b = await node(redis().url, name);
    await a.state.set('n', 42);
    await waitFor(() => b.version === a.version, 'b applied');
    const old = a.version;
    const server = await serve(b);
    await redis().restartEmpty();
    await waitFor(() => a.version.split('.')[0] !== old.split('.')[0] && a.version === b.version, 'a new epoch on both nodes', 15000);
    assert.deepEqual(a.state.data, { n: 42 });
    assert.deepEqual(b.state.data, { n: 42 });
    await a.state.set('m', 1);
    await waitFor(() => b.state.get('m') === 1, 'writes go on in the new epoch');
    // A client resuming with a version of the old epoch gets the whole value, never a wrong diff.
    const client = await RawClient.connect(`ws://127.0.0.1:${server.port}/ws`, { protocols: [EXTENSION_PROTOCOL] });
    client.send({ type: 'hello', session: null, version: old });
    const first = await client.next((m) => m.type === 'state');
    assert.deepEqual(first.diff, [{ op: 'replace', path: '', value: { n: 42, m: 1 } }]);
  });
});
