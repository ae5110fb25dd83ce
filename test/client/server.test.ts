/** Our client against our server (`listen()`), over real sockets. */
import assert from 'node:assert/strict';
import {
  ConnectError,
  ConnectionClosedError,
  GaveUpError,
  JugglerError,
  type JsonValue,
} from '../../src/client/index.js';
import { JugglerError as ServerJugglerError, listen, Storage } from '../../src/index.js';
import { onCleanup } from '../support/cleanup.js';
import { connectTo, reconnectTo } from '../support/client-helpers.js';
import { makeHtpasswd } from '../support/htpasswd.js';
import { startServer } from '../support/server.js';
import { deferred, waitFor, within } from '../support/wait.js';

describe('client against our server', () => {
  it('gets results, failure data and error messages', async () => {
    const server = await startServer({
      onRequest(_conn, name, data) {
        if (name === 'fail') throw new ServerJugglerError({ why: 'refused', data });
        if (name === 'throw') throw new Error('handler broke');
        return { got: data };
      },
    });
    const client = await connectTo(server.url);
    assert.deepEqual(await client.send('echo', [1, 'two', null]), { got: [1, 'two', null] });
    assert.equal(await client.send('', 'echoed without the handler'), 'echoed without the handler');
    await assert.rejects(client.send('fail', 5), (err: unknown) => {
      assert.ok(err instanceof JugglerError);
      assert.deepEqual(err.data, { why: 'refused', data: 5 });
      return true;
    });
    await assert.rejects(client.send('throw', null), (err: unknown) => err instanceof JugglerError && err.data === 'handler broke');
  });

  it('pipelines requests; with parallelRequests a quick one overtakes a slow one', async () => {
    const server = await startServer({
      parallelRequests: true,
      async onRequest(_conn, name, data) {
        if (name === 'slow') await new Promise((resolve) => setTimeout(resolve, 100));
        return data;
      },
    });
    const client = await connectTo(server.url);
    const order: string[] = [];
    const slow = client.send('slow', 'slow').then((v) => order.push(v as string));
    const quick = Promise.all([1, 2, 3].map((n) => client.send('quick', `quick ${n}`).then((v) => order.push(v as string))));
    await Promise.all([slow, quick]);
    assert.deepEqual(order, ['quick 1', 'quick 2', 'quick 3', 'slow']);
  });

  it('answers pipelined requests in order without parallelRequests', async () => {
    const server = await startServer({
      async onRequest(_conn, name, data) {
        if (name === 'slow') await new Promise((resolve) => setTimeout(resolve, 50));
        return data;
      },
    });
    const client = await connectTo(server.url);
    const order: JsonValue[] = [];
    await Promise.all([client.send('slow', 1), client.send('quick', 2), client.send('quick', 3)].map((p) => p.then((v) => order.push(v))));
    assert.deepEqual(order, [1, 2, 3]);
  });

  it('follows the server state: whole value first, then diffs, payloads over 64 KiB included', async () => {
    const state = new Storage({ rows: [] as JsonValue[] });
    const server = await startServer({
      state,
      autoflushDelay: 5,
      onRequest(_conn, name, data) {
        if (name === 'big') state.set('big', 'z'.repeat(200_000) + '\u{1F600}');
        if (name === 'row') state.set(['rows', (state.get('rows') as JsonValue[]).length], data);
        if (name === 'drop') state.remove('big');
        return null;
      },
    });
    const client = await connectTo(server.url);
    const diffs: unknown[] = [];
    client.onChange((_s, diff) => diffs.push(structuredClone(diff)));
    await waitFor(() => client.state !== null, 'the first state');
    assert.deepEqual(client.state, { rows: [] });
    assert.deepEqual(diffs[0], [{ op: 'replace', path: '', value: { rows: [] } }]);
    await client.send('big', null);
    await waitFor(() => (client.state as { big?: string }).big !== undefined, 'the big diff');
    await client.send('row', { id: 1, text: 'é😀' });
    await client.send('drop', null);
    await waitFor(() => JSON.stringify(client.state) === JSON.stringify(state.data), 'the client to match the server', 3000);
    assert.deepEqual(client.state, { rows: [{ id: 1, text: 'é😀' }] });
  });

  it('keeps emoji intact across segment boundaries both ways with a small maxSegmentSize', async () => {
    const state = new Storage(null);
    const received: string[] = [];
    const server = await startServer({
      state,
      autoflushDelay: 0,
      maxSegmentSize: 7,
      onRequest(_conn, _name, data) {
        received.push(data as string);
        state.set([], data);
        return data;
      },
    });
    const client = await connectTo(server.url, { maxSegmentSize: 7 });
    for (let pad = 0; pad < 7; pad++) {
      const text = 'a'.repeat(pad) + '\u{1F600}x\u{1F680}'.repeat(5);
      assert.equal(await client.send('set', text), text);
      await waitFor(() => client.state === text, `state with padding ${pad}`);
    }
    assert.ok(received.every((text) => !text.includes('\uFFFD')));
  });

  it('gets notifications a handler awaited before its response', async () => {
    const seen: string[] = [];
    const server = await startServer({
      async onRequest(conn, name) {
        await conn.notify('progress', { step: 1 });
        await conn.notify('progress', { step: 2 });
        return name;
      },
    });
    const client = await connectTo(server.url, { onNotify: (name, data) => seen.push(`${name} ${JSON.stringify(data)}`) });
    const result = await client.send('work', null);
    seen.push(`result ${result}`);
    assert.deepEqual(seen, ['progress {"step":1}', 'progress {"step":2}', 'result work']);
  });

  it('answers the server pings and stays open', async () => {
    const server = await startServer({ pingDelay: 30, pingTimeout: 60 });
    const client = await connectTo(server.url, { pingDelay: null });
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(client.status, 'open');
    assert.equal(await client.send('', 1), 1);
  });

  it('sees server.close() as ConnectionClosedError 1001', async () => {
    const running = deferred();
    const server = await startServer({
      onRequest: () => {
        running.resolve();
        return new Promise(() => {});
      },
    });
    const client = await connectTo(server.url);
    const pending = client.send('never', null);
    const failed = assert.rejects(pending, (err: unknown) => err instanceof ConnectionClosedError && err.closeCode === 1001);
    await within(running.promise, 2000, 'the handler to run');
    await server.close();
    await failed;
  });

  it('authenticates with Basic credentials; a wrong password is HTTP 401', async () => {
    const file = await makeHtpasswd([{ user: 'ops', password: 'sésame', format: 'bcrypt' }]);
    onCleanup(() => file.cleanup());
    const server = await startServer({ htpasswdFile: file.path, onRequest: (conn) => conn.user });
    const client = await connectTo(server.url, { auth: { username: 'ops', password: 'sésame' } });
    assert.equal(await client.send('who', null), 'ops');
    await assert.rejects(
      connectTo(server.url, { auth: { username: 'ops', password: 'wrong' } }),
      (err: unknown) => err instanceof ConnectError && err.status === 401,
    );
    const gaveUp = deferred<Error>();
    reconnectTo(server.url, { auth: { username: 'ops', password: 'wrong' }, onGiveUp: gaveUp.resolve });
    const err = await within(gaveUp.promise, 3000, 'giving up');
    assert.ok(err instanceof GaveUpError && /HTTP 401/.test(err.message));
  });

  it('reconnects to a restarted server on the same port and takes its fresh state', async () => {
    const first = await listen({ host: '127.0.0.1', port: 0, state: new Storage({ run: 1 }), onError: () => {} });
    onCleanup(() => first.close());
    const states: JsonValue[] = [];
    const port = first.port;
    const live = reconnectTo(`ws://127.0.0.1:${port}/ws`, { backoff: { initial: 20, max: 50 } });
    live.onChange((state) => states.push(structuredClone(state)));
    await waitFor(() => states.length === 1, 'first state');
    await first.close();
    const second = await listen({ host: '127.0.0.1', port, state: new Storage({ run: 2 }), onError: () => {} });
    onCleanup(() => second.close());
    await waitFor(() => states.length === 2, 'state of the second run', 3000);
    // The old value is kept (stale) until the new one replaces it: no null in between.
    assert.deepEqual(states, [{ run: 1 }, { run: 2 }]);
    assert.equal(live.stale, false);
  });
});
