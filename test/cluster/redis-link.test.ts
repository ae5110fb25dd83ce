import assert from 'node:assert/strict';
import type { LinkRole } from '../../src/cluster/redis-link.js';
import { redactUrl } from '../../src/cluster/redis-link.js';
import { RedisLogStore } from '../../src/cluster/redis-log-store.js';
import type { LogEntry } from '../../src/cluster/log-entry.js';
import { RedisServer } from '../support/redis-server.js';
import { startProxy } from '../support/tcp-proxy.js';
import { waitFor, within } from '../support/wait.js';
import { appendMany, freshName, openStore, rawClient } from './store-helpers.js';

describe('RedisLink (real redis-server)', function () {
  this.timeout(20000);

  it('rejects at start naming the URL without its password', async () => {
    const redis = await RedisServer.start();
    await redis.kill();
    await assert.rejects(
      RedisLogStore.open({ url: `redis://user:hunter2@127.0.0.1:${redis.port}`, name: 'x' }),
      (err: Error) => err.message.includes(`redis://user@127.0.0.1:${redis.port}`) && !err.message.includes('hunter2'),
    );
    assert.equal(redactUrl('rediss://:pw@h:1/2'), 'rediss://h:1/2');
  });

  it('replaces the blocking reader of a paused Redis within the bound, and reads on after SIGCONT', async () => {
    const redis = await RedisServer.start();
    const name = freshName();
    const store = await openStore(redis.url, { name, watchdog: 1000, block: 200 });
    const writer = await openStore(redis.url, { name, watchdog: 5000 });
    const { epoch } = await store.claimEpoch({});
    const seen: LogEntry[] = [];
    store.on('entries', (entries) => seen.push(...entries));
    store.follow(epoch, 0);
    await appendMany(writer, epoch, 3);
    await waitFor(() => seen.length === 3, 'the first entries');
    const replaced = new Map<LinkRole, number>();
    store.on('replaced', (role) => replaced.set(role, Date.now()));
    const paused = Date.now();
    redis.pause();
    await waitFor(() => replaced.has('reader'), 'the reader to be replaced', 4000);
    const after = replaced.get('reader')! - paused;
    // bound 1000 + block 200 + one check period (250), with slack for a loaded machine
    assert.ok(after <= 2500, `replaced after ${after} ms`);
    redis.resume();
    await appendMany(writer, epoch, 2, 3);
    await waitFor(() => seen.length === 5, 'entries after SIGCONT', 8000);
    assert.deepEqual(seen.map((e) => e.seq), [1, 2, 3, 4, 5]);
  });

  it('replaces every link of a half-open connection (packets dropped, no reset) and works once the path is back', async () => {
    const redis = await RedisServer.start();
    const proxy = await startProxy(redis.port);
    const store = await openStore(`redis://127.0.0.1:${proxy.port}`, { watchdog: 800, block: 200 });
    const { epoch } = await store.claimEpoch({});
    store.follow(epoch, 0);
    const replaced = new Set<LinkRole>();
    store.on('replaced', (role) => replaced.add(role));
    const started = Date.now();
    proxy.vanish('drop');
    const pending = store.append(epoch, 'during', '1');
    await waitFor(() => replaced.size === 3, 'all three links to be replaced', 5000);
    assert.ok(Date.now() - started <= 3000, `within ${Date.now() - started} ms`);
    proxy.vanish(null);
    const result = await pending;
    assert.equal(result.status === 'appended' || result.status === 'duplicate' ? result.seq : -1, 1);
    await waitFor(() => store.followPosition === 1, 'the reader to read on');
  });

  it('reports each outage once per link: down when it starts, up when it ends', async () => {
    const redis = await RedisServer.start();
    const store = await openStore(redis.url);
    const events: string[] = [];
    store.on('down', (err) => events.push(`down ${err.message.split(' ')[1]}`));
    store.on('up', (role) => events.push(`up ${role}`));
    await redis.kill();
    await waitFor(() => events.length === 3, 'three links down');
    await waitFor(() => !store.links.commands.ready, 'reconnect attempts');
    await redis.restart();
    // Each link reports its own `up`: the last may come after `connected` already holds.
    await waitFor(() => events.length === 6, 'the three links back', 8000);
    assert.ok(store.connected);
    assert.deepEqual(events.slice(0, 3).sort(), ['down commands', 'down control', 'down reader']);
    assert.deepEqual(events.slice(3).sort(), ['up commands', 'up control', 'up reader']);
  });

  it('comes up when Redis answered LOADING while it loaded its dataset, and sends the appends that waited', async () => {
    // Loading takes seconds (a delay per key; events served every KiB), so
    // the link's reconnect lands in it, and the link's bound is longer than
    // the loading, so no watchdog replacement hides what happens next.
    const redis = await RedisServer.start({ args: ['--key-load-delay', '200', '--loading-process-events-interval-bytes', '1024'] });
    const raw = await rawClient(redis.url);
    for (let batch = 0; batch < 12; batch++) {
      const multi = raw.multi();
      for (let i = 0; i < 1000; i++) multi.set(`fill:${batch}:${i}`, 'x');
      await multi.exec();
    }
    // Only a dataset loaded from RDB is slowed per key: rewrite the AOF to an RDB base.
    await raw.bgRewriteAof();
    const rewritten = async (): Promise<boolean> => {
      const info = await raw.info('persistence');
      return info.includes('aof_rewrite_in_progress:0') && info.includes('aof_rewrite_scheduled:0');
    };
    await waitFor(rewritten, 'the AOF rewrite', 10000, 50);
    raw.destroy();
    const store = await openStore(redis.url, { watchdog: 15000, writeTimeout: 30000 });
    const { epoch } = await store.claimEpoch({});
    await redis.kill();
    await waitFor(() => !store.links.commands.ready, 'the commands link to notice');
    const pending = appendMany(store, epoch, 5);
    await redis.restart(); // resolves once Redis answers PONG, after loading
    const results = await within(pending, 5000, 'the appends after the dataset loaded');
    assert.deepEqual(results.map((r) => r.status !== 'wrong-epoch' && r.seq), [1, 2, 3, 4, 5]);
    await waitFor(() => store.connected, 'all three links up');
    const after = await rawClient(redis.url);
    assert.match(await after.info('errorstats'), /errorstat_LOADING:count=[1-9]/, 'Redis answered LOADING while it loaded');
  });
});
