/**
 * A view granted by client.setView() belongs to the session on a cluster
 * too (docs/views.md): the session record in Redis keeps it, so the
 * session resumed on another node starts in it.
 */
import assert from 'node:assert/strict';
import { connect } from '../../src/client/index.js';
import { onCleanup } from '../support/cleanup.js';
import { RedisServer } from '../support/redis-server.js';
import { waitFor } from '../support/wait.js';
import { freshName, node, serve } from './cluster-helpers.js';
import { rawClient } from './store-helpers.js';

describe('views across cluster nodes', function () {
  this.timeout(30_000);

  it('a session resumed on another node starts in the view its client was granted', async () => {
    const redis = await RedisServer.start();
    const name = freshName();
    const a = await node(redis.url, name, { initial: { sites: { north: 1, south: 2 }, alarms: [] } });
    const b = await node(redis.url, name);
    const onView = (_conn: unknown, paths: string[][]) => paths;
    const serverA = await serve(a, { onView });
    const serverB = await serve(b, { onView });

    const first = await connect(`ws://127.0.0.1:${serverA.port}/ws`);
    onCleanup(() => first.close());
    await first.setView([['sites', 'north']]);
    assert.deepEqual(first.state, { sites: { north: 1 } });
    const token = first.session!;
    const raw = await rawClient(redis.url);
    await waitFor(async () => (await raw.hGet(`koa-juggler:${name}:s:${token.split('.')[0]}`, 'v')) !== undefined, 'the view in the session record');
    first.close();
    await first.closed;

    const second = await connect(`ws://127.0.0.1:${serverB.port}/ws`, { session: token });
    onCleanup(() => second.close());
    assert.equal(second.resumed, true);
    await waitFor(() => second.version !== null, 'the state on b');
    assert.deepEqual(second.state, { sites: { north: 1 } });
    await a.state.set(['sites', 'south'], 3);
    await a.state.set(['sites', 'north'], 4);
    await waitFor(() => second.version === a.version, 'the writes on b');
    assert.deepEqual(second.state, { sites: { north: 4 } });
  });

  it('a view set while Redis was away reaches the record once it is back', async () => {
    const redis = await RedisServer.start();
    const name = freshName();
    const a = await node(redis.url, name, { initial: { x: 1, y: 2 } });
    const server = await serve(a, { onView: (_conn, paths) => paths });
    const client = await connect(`ws://127.0.0.1:${server.port}/ws`);
    onCleanup(() => client.close());
    const record = `koa-juggler:${name}:s:${client.session!.split('.')[0]}`;
    const raw = await rawClient(redis.url);
    await waitFor(async () => (await raw.exists(record)) === 1, 'the session record');
    await raw.quit();
    await redis.stop();
    await client.setView([['x']]);
    await redis.restart();
    const back = await rawClient(redis.url);
    await waitFor(async () => (await back.hGet(record, 'v')) === '[["x"]]', 'the view written once Redis is back', 10_000);
  });
});
