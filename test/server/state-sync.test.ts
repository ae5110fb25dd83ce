import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import jsonpatch from 'fast-json-patch';
import { Storage } from '../../src/index.js';
import { RawClient } from '../support/raw-client.js';
import { startServer } from '../support/server.js';
import { delay, waitFor, within } from '../support/wait.js';

/** Applies every state diff a raw client got, from null, the way a juggler client does. */
function clientState(client: RawClient): unknown {
  let state: unknown = null;
  for (const m of client.messages) {
    if (m.type === 'state') state = jsonpatch.applyPatch(state, m.diff, false, true).newDocument;
  }
  return state;
}
const states = (client: RawClient) => client.messages.filter((m) => m.type === 'state');

describe('state sync', () => {
  it("sends a new client the whole value first, as one replace at ''", async () => {
    const shared = new Storage({ title: 'plant', points: { a: 1 } });
    const server = await startServer({ state: shared });
    const client = await RawClient.connect(server.url);
    const first = await client.next((m) => m.type === 'state');
    assert.deepEqual(first, { type: 'state', diff: [{ op: 'replace', path: '', value: { title: 'plant', points: { a: 1 } } }] });
    assert.equal(client.messages[0], first, 'the state is the first message');
  });

  it('sends nothing while the state is null', async () => {
    const server = await startServer({ autoflushDelay: 0 });
    const client = await RawClient.connect(server.url);
    client.request(1, '', null);
    await client.response(1);
    assert.equal(states(client).length, 0);
  });

  it('sends a per-connection state set in onConnection as the first message', async () => {
    const server = await startServer({ onConnection: (conn) => conn.state.set([], { me: conn.remote }) });
    const client = await RawClient.connect(server.url);
    const first = await client.next((m) => m.type === 'state');
    assert.deepEqual(first.diff, [{ op: 'replace', path: '', value: { me: '127.0.0.1' } }]);
  });

  it('syncs a per-connection state first touched in a request handler, long after the connection opened', async () => {
    const server = await startServer({
      autoflushDelay: 50,
      onRequest: async (conn, name, data) => {
        if (name === 'count') {
          conn.state.set('count', data);
          await conn.flush(); // ordered ahead of the response
        }
        return conn.state.get('count') ?? null;
      },
    });
    const client = await RawClient.connect(server.url);
    const other = await RawClient.connect(server.url);
    client.request(1, 'read', null);
    assert.equal((await client.response(1)).data, null);
    client.request(2, 'count', 7);
    assert.equal((await client.response(2)).data, 7);
    const diffAt = client.messages.findIndex((m) => m.type === 'state');
    const responseAt = client.messages.findIndex((m) => m.type === 'response' && m.id === 2);
    assert.ok(diffAt >= 0 && diffAt < responseAt, 'the diff came before the response that flushed it');
    assert.deepEqual(states(client)[0]!.diff, [{ op: 'replace', path: '', value: { count: 7 } }], 'from null, one diff: no whole-value message first');
    assert.deepEqual(clientState(client), { count: 7 });
    other.request(1, 'read', null);
    assert.equal((await other.response(1)).data, null, 'each connection has its own state');
    assert.equal(states(other).length, 0);
  });

  it('coalesces changes over autoflushDelay, as a throttle that no stream of changes postpones', async () => {
    const shared = new Storage({ n: 0 });
    const server = await startServer({ state: shared, autoflushDelay: 100 });
    const client = await RawClient.connect(server.url);
    await client.next((m) => m.type === 'state');
    const started = Date.now();
    let n = 0;
    const timer = setInterval(() => shared.set('n', ++n), 5);
    await delay(450);
    clearInterval(timer);
    await waitFor(() => isDeepStrictEqual(clientState(client), { n }), `the last value, n = ${n}`);
    const diffs = states(client).slice(1);
    const elapsed = Date.now() - started;
    assert.ok(diffs.length >= 3 && diffs.length <= Math.ceil(elapsed / 100) + 1, `${diffs.length} diffs in ${elapsed} ms`);
    for (const m of diffs) assert.equal(m.diff.length, 1, 'one coalesced op per flush');
    assert.deepEqual(clientState(client), { n });
  });

  it('sends every change on its own with autoflushDelay 0', async () => {
    const shared = new Storage({});
    const server = await startServer({ state: shared, autoflushDelay: 0 });
    const client = await RawClient.connect(server.url);
    await client.next((m) => m.type === 'state');
    shared.set('a', 1);
    shared.set('b', 2);
    shared.set('a', 3);
    await waitFor(() => states(client).length === 4, 'three diffs');
    assert.deepEqual(states(client).slice(1).map((m) => m.diff), [
      [{ op: 'add', path: '/a', value: 1 }],
      [{ op: 'add', path: '/b', value: 2 }],
      [{ op: 'replace', path: '/a', value: 3 }],
    ]);
  });

  it('sends only on conn.flush() with autoflushDelay null; flush() resolves once handed to the socket', async () => {
    const server = await startServer({
      autoflushDelay: null,
      onConnection: (conn) => conn.state.set([], { v: 0 }),
      async onRequest(conn, name) {
        conn.state.set('v', 1);
        if (name === 'flush') await conn.flush();
        return 'done';
      },
    });
    const client = await RawClient.connect(server.url);
    await client.next((m) => m.type === 'state');
    client.request(1, 'noflush');
    await client.response(1);
    // The echo's response comes after anything the server sent before it (docs/protocol.md, "Order").
    client.request(2, '', null);
    await client.response(2);
    assert.equal(states(client).length, 1);
    client.request(3, 'flush');
    await client.response(3);
    const types = client.messages.map((m) => m.type);
    assert.deepEqual(types, ['state', 'response', 'response', 'state', 'response'], 'the flushed diff precedes the response');
    assert.deepEqual(clientState(client), { v: 1 });
  });

  it('orders an awaited notify before the response', async () => {
    const server = await startServer({
      async onRequest(conn) {
        await conn.notify('progress', 50);
        await conn.notify('progress', 100);
        return 'finished';
      },
    });
    const client = await RawClient.connect(server.url);
    client.request(1, 'work');
    await client.response(1);
    assert.deepEqual(client.messages.map((m) => m.type === 'notify' ? m.data : m.data), [50, 100, 'finished']);
  });

  it('rejects flush() and notify() once the connection is closed', async () => {
    const server = await startServer({});
    const client = await RawClient.connect(server.url);
    const conn = [...server.connections][0]!;
    client.close();
    await within(conn.closed, 2000, 'conn.closed');
    await assert.rejects(conn.flush(), /closed/);
    await assert.rejects(conn.notify('x', 1), /closed/);
  });

  it('keeps many connections on one shared Storage in sync', async () => {
    const shared = new Storage({ points: {} });
    const server = await startServer({ state: shared, autoflushDelay: 20 });
    const clients = await Promise.all(Array.from({ length: 30 }, () => RawClient.connect(server.url)));
    for (let i = 0; i < 200; i++) {
      shared.set(['points', `p${i % 37}`], { value: i, quality: i % 3 === 0 ? 'bad' : 'good' });
      if (i % 50 === 0) shared.remove(['points', `p${i % 37}`]);
      if (i % 20 === 0) await delay(7);
    }
    const late = await RawClient.connect(server.url);
    for (const c of [...clients, late]) await waitFor(() => isDeepStrictEqual(clientState(c), shared.data), 'each client to match the server');
    for (const c of [...clients, late]) assert.deepEqual(clientState(c), shared.data);
  });

  it('makes notify() wait while sendQueueSize messages are unwritten', async () => {
    let sent = 0;
    const server = await startServer({
      sendQueueSize: 4,
      async onRequest(conn) {
        for (let i = 0; i < 50; i++) {
          await conn.notify('chunk', 'x'.repeat(100_000));
          sent += 1;
        }
        return sent;
      },
    });
    const client = await RawClient.connect(server.url);
    const socket = (client.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    client.request(1, 'flood');
    await delay(300);
    assert.ok(sent < 50, `notify() did not wait (${sent} sent while the client read nothing)`);
    socket.resume();
    assert.equal((await client.response(1, 10000)).data, 50);
  });
});
