import assert from 'node:assert/strict';
import { JugglerError } from '../../src/index.js';
import { RawClient } from '../support/raw-client.js';
import { frame, RawSocket } from '../support/raw-socket.js';
import { startServer } from '../support/server.js';
import { deferred, delay, waitFor } from '../support/wait.js';

describe('requests', () => {
  it('answers a request with the handler result', async () => {
    const server = await startServer({ onRequest: (conn, name, data) => ({ name, data, user: conn.user }) });
    const client = await RawClient.connect(server.url);
    client.request(1, 'hello', { x: [1, 2] });
    assert.deepEqual(await client.response(1), {
      type: 'response', id: 1, success: true, data: { name: 'hello', data: { x: [1, 2] }, user: null },
    });
  });

  it('echoes a request with an empty name without calling the handler', async () => {
    let calls = 0;
    const server = await startServer({ onRequest: () => { calls += 1; return 'handler'; } });
    const client = await RawClient.connect(server.url);
    client.request(7, '', { echo: true });
    assert.deepEqual(await client.response(7), { type: 'response', id: 7, success: true, data: { echo: true } });
    assert.equal(calls, 0);
  });

  it('sends JugglerError data, Error messages, and String() of other throws as failed responses', async () => {
    const server = await startServer({
      async onRequest(_conn, name) {
        if (name === 'juggler') throw new JugglerError({ reason: 'no', code: 42 });
        if (name === 'error') throw new Error('it broke');
        if (name === 'string') throw 'plain string';
        if (name === 'number') throw 17;
        if (name === 'unprintable') throw Object.create(null);
        return null;
      },
    });
    const client = await RawClient.connect(server.url);
    ['juggler', 'error', 'string', 'number', 'unprintable'].forEach((name, i) => client.request(i, name));
    assert.deepEqual((await client.response(0)).data, { reason: 'no', code: 42 });
    assert.equal((await client.response(1)).data, 'it broke');
    assert.equal((await client.response(2)).data, 'plain string');
    assert.equal((await client.response(3)).data, '17');
    assert.equal((await client.response(4)).data, 'request failed');
    for (let i = 0; i < 5; i++) assert.equal((await client.response(i)).success, false);
    assert.deepEqual(server.errors.map((e) => e.kind), ['handler', 'handler', 'handler', 'handler']);
  });

  it('answers undefined with null, and results JSON cannot carry with a failed response', async () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    const server = await startServer({
      onRequest(_conn, name) {
        if (name === 'undefined') return undefined;
        if (name === 'bigint') return 10n as never;
        if (name === 'cycle') return cycle as never;
        return 'fine';
      },
    });
    const client = await RawClient.connect(server.url);
    ['undefined', 'bigint', 'cycle', 'after'].forEach((name, i) => client.request(i, name));
    assert.deepEqual(await client.response(0), { type: 'response', id: 0, success: true, data: null });
    const big = await client.response(1);
    assert.equal(big.success, false);
    assert.match(big.data, /not JSON.*BigInt/i);
    assert.equal((await client.response(2)).success, false);
    assert.equal((await client.response(3)).data, 'fine');
  });

  it('fails every request with a clear message when there is no onRequest', async () => {
    const server = await startServer({});
    const client = await RawClient.connect(server.url);
    client.request(1, 'anything');
    const response = await client.response(1);
    assert.equal(response.success, false);
    assert.match(response.data, /no onRequest/);
  });

  it('handles requests one at a time in arrival order by default', async () => {
    const log: string[] = [];
    const server = await startServer({
      async onRequest(_conn, name, data) {
        log.push(`start ${name}`);
        await delay(data as number);
        log.push(`end ${name}`);
        return name;
      },
    });
    const client = await RawClient.connect(server.url);
    client.request(1, 'a', 40);
    client.request(2, 'b', 0);
    client.request(3, 'c', 10);
    await client.response(3);
    assert.deepEqual(log, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    assert.deepEqual(client.messages.map((m) => m.id), [1, 2, 3]);
  });

  it('runs requests concurrently with parallelRequests, up to maxRequestsInFlight', async () => {
    let running = 0;
    let peak = 0;
    const gate = deferred();
    const server = await startServer({
      parallelRequests: true,
      maxRequestsInFlight: 3,
      async onRequest(_conn, name) {
        running += 1;
        peak = Math.max(peak, running);
        if (name === 'slow') await gate.promise;
        running -= 1;
        return name;
      },
    });
    const client = await RawClient.connect(server.url);
    client.request(1, 'slow');
    client.request(2, 'fast');
    assert.equal((await client.response(2)).data, 'fast');
    assert.equal(client.messages.some((m) => m.id === 1), false, 'the later request was answered first');
    for (let i = 10; i < 20; i++) client.request(i, 'slow');
    await waitFor(() => peak >= 3, 'three requests running');
    assert.equal(peak, 3);
    gate.resolve();
    for (let i = 10; i < 20; i++) assert.equal((await client.response(i)).data, 'slow');
    assert.equal(peak, 3, 'never more than maxRequestsInFlight, also while the queue drained');
  });

  it('answers every one of many pipelined requests exactly once', async () => {
    const server = await startServer({ onRequest: (_c, _n, data) => data });
    const client = await RawClient.connect(server.url);
    for (let i = 0; i < 2000; i++) client.request(i, 'echo', i);
    await client.response(1999);
    const ids = client.messages.filter((m) => m.type === 'response').map((m) => m.id);
    assert.equal(ids.length, 2000);
    assert.deepEqual(ids, [...Array(2000).keys()]);
  });

  it('reuses an id once its request is answered', async () => {
    const server = await startServer({ onRequest: (_c, _n, data) => data });
    const client = await RawClient.connect(server.url);
    client.request(1, 'x', 'first');
    await client.response(1);
    client.request(1, 'x', 'second');
    await client.next((m) => m.data === 'second');
  });

  it('lets requests wait for an async onConnection', async () => {
    const ready = deferred();
    const server = await startServer({
      async onConnection(conn) {
        await ready.promise;
        conn.state.set([], { ready: true });
      },
      onRequest: (conn) => conn.state.get('ready') as boolean,
    });
    const client = await RawClient.connect(server.url);
    client.request(1, 'ready?');
    await delay(30);
    assert.equal(client.messages.length, 0);
    ready.resolve();
    assert.equal((await client.response(1)).data, true);
  });

  it('closes a connection whose onConnection throws with 1011', async () => {
    const server = await startServer({ onConnection() { throw new Error('setup failed'); } });
    const client = await RawClient.connect(server.url);
    assert.equal((await client.waitClose()).code, 1011);
    assert.equal(server.errors[0]?.kind, 'connection');
  });

  it('answers requests pipelined in one read, and a ping among them, in order (sendQueueSize smaller than the read)', async () => {
    const server = await startServer({ sendQueueSize: 2, parallelRequests: true, onRequest: (_conn, _name, data) => data });
    const raw = RawSocket.open(server.port);
    await raw.upgraded();
    const frames: Buffer[] = [];
    for (let id = 1; id <= 20; id++) {
      frames.push(frame('0' + JSON.stringify({ type: 'request', id, name: 'echo', data: id })));
      if (id === 10) frames.push(frame('2mid'));
    }
    raw.write(Buffer.concat(frames)); // one write: one read on the server, usually
    await raw.nextText((t) => t.includes('"id":20'));
    const answers = raw.outcome.texts.filter((t) => !t.includes('"state"'));
    const expected = Array.from({ length: 20 }, (_, i) => `0{"type":"response","id":${i + 1},"success":true,"data":${i + 1}}`);
    expected.splice(10, 0, '3mid');
    assert.deepEqual(answers, expected);
    // Still reading and answering afterwards (the batch left nothing counted for good).
    raw.sendText('0' + JSON.stringify({ type: 'request', id: 21, name: 'echo', data: 'after' }));
    await raw.nextText((t) => t.includes('"id":21'));
    assert.deepEqual(server.errors, []);
  });
});
