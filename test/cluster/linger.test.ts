/**
 * A node's writes linger after an append while they keep coming, so a
 * writer that writes every few ms appends one entry per window, not one
 * per run (docs/cluster.md, "Writing to the log"). Over real Redis.
 */
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { connect } from '../../src/client/index.js';
import { onCleanup } from '../support/cleanup.js';
import { useRedis } from '../support/redis-server.js';
import { delay, waitFor } from '../support/wait.js';
import { freshName, node, serve } from './cluster-helpers.js';
import { rawClient } from './store-helpers.js';
import { MAX_READ_PAUSE } from '../../src/cluster/read-pacing.js';

describe('writes linger after an append (real redis-server)', function () {
  this.timeout(30000);
  const redis = useRedis();

  async function entries(name: string): Promise<number> {
    const raw = await rawClient(redis().url);
    return raw.xLen(`koa-juggler:${name}:log`);
  }

  it('gathers the runs of a node writing every 5 ms into one entry per window; every node and client ends exact', async () => {
    const name = freshName();
    const a = await node(redis().url, name, { initial: { n: {} } });
    const b = await node(redis().url, name);
    // autoflushDelay 200: writes linger for a quarter of it, MAX_READ_PAUSE (50 ms).
    await serve(a, { autoflushDelay: 200 });
    const server = await serve(b, { autoflushDelay: 200 });
    const client = await connect(`ws://127.0.0.1:${server.port}/ws`);
    onCleanup(() => client.close());
    const expected = { n: {} as Record<string, number>, last: -1 };
    const runs = 40;
    const writes: Promise<void>[] = [];
    const started = Date.now();
    for (let i = 0; i < runs; i++) {
      writes.push(a.state.set(['n', `k${i % 7}`], i), a.state.set('last', i));
      expected.n[`k${i % 7}`] = i;
      expected.last = i;
      await delay(5);
    }
    await Promise.all(writes);
    const elapsed = Date.now() - started;
    const count = await entries(name);
    assert.ok(count < runs / 2, `${count} entries for ${runs} runs`);
    assert.ok(count <= Math.ceil(elapsed / MAX_READ_PAUSE) + 2, `${count} entries in ${elapsed} ms: at most one per window`);
    await waitFor(() => b.version === a.version, 'the other node applied every entry');
    assert.deepEqual(a.state.data, expected);
    assert.deepEqual(b.state.data, expected);
    await waitFor(() => isDeepStrictEqual(client.state, expected), 'the client got every write');
    assert.deepEqual([...a.errors, ...b.errors], []);
  });

  it('lingers not at all on a node whose server flushes every change (autoflushDelay 0): one entry per run', async () => {
    const name = freshName();
    const a = await node(redis().url, name, { initial: {} });
    await serve(a, { autoflushDelay: 0 });
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 10; i++) {
      writes.push(a.state.set('v', i));
      await delay(5);
    }
    await Promise.all(writes);
    assert.equal(await entries(name), 10);
  });
});
