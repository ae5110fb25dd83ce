/**
 * The cluster's failure tests with a node as a real child process
 * (docs/cluster.md, "Failure behaviour"): killed with SIGKILL mid-write,
 * stopped with SIGSTOP past `retention`, and serving on while Redis is
 * paused or unreachable without a close. Real redis-server throughout.
 */
import assert from 'node:assert/strict';
import { connect, reconnect } from '../../src/client/index.js';
import type { JsonValue } from '../../src/index.js';
import { onCleanup } from '../support/cleanup.js';
import { useRedis } from '../support/redis-server.js';
import { startProxy } from '../support/tcp-proxy.js';
import { waitFor } from '../support/wait.js';
import { ChildNode } from './child-node.js';
import { freshName, node, serve } from './cluster-helpers.js';
import { rawClient } from './store-helpers.js';

type Raw = Awaited<ReturnType<typeof rawClient>>;

/** The writes of every entry in the log, oldest first (broadcasts left out). */
async function logWrites(raw: Raw, name: string): Promise<{ seq: number; writes: unknown[][] }[]> {
  const entries = await raw.xRange(`koa-juggler:${name}:log`, '-', '+');
  return entries
    .map((e) => ({ seq: Number(e.id.split('-')[0]), body: JSON.parse(e.message.b!) as { w?: unknown[][] } }))
    .filter((e) => e.body.w !== undefined)
    .map((e) => ({ seq: e.seq, writes: e.body.w! }));
}

const seqOf = (version: string | null): number => Number(version?.split('.')[1] ?? -1);

describe('cluster failures with a node in its own process', function () {
  this.timeout(40_000);
  const redis = useRedis();

  it('kill -9 of a node mid-write: its clients end on another node with the exact value, each write whole or not at all', async () => {
    const name = freshName();
    const b = await node(redis().url, name, { initial: {} });
    const serverB = await serve(b);
    const urlB = `ws://127.0.0.1:${serverB.port}/ws`;
    const child = await ChildNode.start(redis().url, name);
    const live = reconnect([child.url, urlB], { backoff: { initial: 10, max: 50, jitter: 0 } });
    onCleanup(() => live.close());
    await waitFor(() => live.url === child.url && live.version !== null, 'the client on the child node');
    child.loop(['a', 'b', 'c']);
    await child.wroteAtLeast(20);
    await child.kill();

    const raw = await rawClient(redis().url);
    const log = await logWrites(raw, name);
    // Every entry holds one round whole: the three keys set to the same number, rounds in order.
    log.forEach((entry, i) => {
      assert.deepEqual(entry.writes, [['s', ['a'], i + 1], ['s', ['b'], i + 1], ['s', ['c'], i + 1]], `entry ${entry.seq}`);
    });
    assert.ok(log.length >= child.wrote, `${log.length} entries, ${child.wrote} acknowledged`);
    const last = log.length;
    await waitFor(() => seqOf(b.version) === log.at(-1)!.seq, 'b to apply the whole log');
    assert.deepEqual(b.state.data, { a: last, b: last, c: last });
    await waitFor(() => live.url === urlB && live.version === b.version && !live.stale, 'the client to move to b', 10_000);
    assert.deepEqual(live.state, b.state.data);
  });

  it('Redis restarted with its AOF mid-write: no duplicate entry from a lost reply, every node ends exact', async () => {
    const name = freshName();
    const b = await node(redis().url, name, { initial: {} });
    const child = await ChildNode.start(redis().url, name);
    child.loop(['a', 'b']);
    await child.wroteAtLeast(20);
    const epoch = b.version.split('.')[0];
    await redis().restart();
    const before = child.wrote;
    await child.wroteAtLeast(before + 20);
    await child.kill();
    const log = await logWrites(await rawClient(redis().url), name);
    // Rounds in order, each once: a write whose reply was lost with Redis was not appended again.
    log.forEach((entry, i) => assert.deepEqual(entry.writes, [['s', ['a'], i + 1], ['s', ['b'], i + 1]], `entry ${entry.seq}`));
    await waitFor(() => seqOf(b.version) === log.at(-1)!.seq, 'b to apply the whole log', 10_000);
    assert.equal(b.version.split('.')[0], epoch, 'the AOF kept the epoch');
    assert.deepEqual(b.state.data, { a: log.length, b: log.length });
  });

  it('a node stopped longer than retention, then continued, finds the gap and resyncs; its clients end exact', async () => {
    const name = freshName();
    const a = await node(redis().url, name, { initial: { n: 0 }, snapshotInterval: 10, retention: 0 });
    const child = await ChildNode.start(redis().url, name, { snapshotInterval: 1e9 });
    const live = reconnect([child.url], { backoff: { initial: 10, max: 50, jitter: 0 } });
    onCleanup(() => live.close());
    await waitFor(() => live.version === a.version, 'the client on the child node');
    const at = child.errors.length;
    child.stop();
    for (let i = 1; i <= 100; i++) await a.state.set(['n'], i);
    const raw = await rawClient(redis().url);
    await waitFor(async () => (await raw.xLen(`koa-juggler:${name}:log`)) < 50, 'the log trimmed past the stopped node');
    child.continue();
    await waitFor(async () => (await child.status()).version === a.version, 'the child node to resync', 15_000, 50);
    assert.deepEqual((await child.status()).data, { n: 100 });
    assert.ok(child.errors.slice(at).some((e) => /gap/.test(e.message)), JSON.stringify(child.errors));
    await waitFor(() => live.version === a.version && !live.stale, 'its client to end exact', 10_000);
    assert.deepEqual(live.state, { n: 100 });
  });

  for (const outage of ['paused (SIGSTOP)', 'unreachable half-open'] as const) {
    it(`Redis ${outage}: the node serves on, writes made meanwhile land once each and in order, the watchdog fires`, async () => {
      const name = freshName();
      const proxy = outage === 'unreachable half-open' ? await startProxy(redis().port) : null;
      const url = proxy ? `redis://127.0.0.1:${proxy.port}` : redis().url;
      const child = await ChildNode.start(url, name, { initial: {}, writeTimeout: 20_000 });
      const client = await connect(child.url);
      onCleanup(() => client.close());
      assert.equal(await client.send('echo', 'before'), 'before');
      if (proxy) proxy.vanish('drop');
      else redis().pause();
      const started = Date.now();
      for (let i = 0; i < 10; i++) {
        // Requests are answered while Redis does not answer; the writes they queue wait.
        assert.equal(await client.send('set', { path: [`p${i}`], value: i }), 'queued');
        assert.equal(await client.send('echo', i), i);
      }
      assert.ok(Date.now() - started < 2000, `requests answered in ${Date.now() - started} ms`);
      await waitFor(() => child.errors.some((e) => e.kind === 'cluster' && /stopped answering/.test(e.message)), 'the watchdog', 10_000);
      if (proxy) proxy.vanish(null);
      else redis().resume();
      const expected: Record<string, JsonValue> = {};
      for (let i = 0; i < 10; i++) expected[`p${i}`] = i;
      await waitFor(() => JSON.stringify(client.state) === JSON.stringify(expected), 'the writes to land', 15_000);
      const log = await logWrites(await rawClient(redis().url), name);
      assert.deepEqual(log.flatMap((e) => e.writes), Object.entries(expected).map(([k, v]) => ['s', [k], v]));
      assert.deepEqual(child.errors.filter((e) => e.kind === 'write'), []);
    });
  }
});
