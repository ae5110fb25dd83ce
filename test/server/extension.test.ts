import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import jsonpatch from 'fast-json-patch';
import { Storage, type JsonValue } from '../../src/index.js';
import { RawClient } from '../support/raw-client.js';
import { startServer } from '../support/server.js';
import { deferred, delay, waitFor } from '../support/wait.js';

const V1 = 'koa-juggler.v1';

async function extClient(url: string, hello: Record<string, unknown> = {}) {
  const client = await RawClient.connect(url, { protocols: [V1] });
  assert.equal(client.ws.protocol, V1);
  client.send({ type: 'hello', ...hello });
  const welcome = await client.next((m) => m.type === 'welcome');
  return { client, welcome };
}

function applyStates(messages: any[], from: unknown = null): unknown {
  let state = from;
  for (const m of messages) if (m.type === 'state') state = jsonpatch.applyPatch(state, m.diff, false, true).newDocument;
  return state;
}

/** The subprotocol a server selects for an upgrade offering `protocols`. */
function selectedProtocol(port: number, protocols: string): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: '127.0.0.1', port, path: '/ws',
      headers: {
        Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': Buffer.alloc(16, 1).toString('base64'), 'Sec-WebSocket-Protocol': protocols,
      },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res.headers['sec-websocket-protocol']);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('koa-juggler.v1 extension (server)', () => {
  describe('negotiation', () => {
    it('selects koa-juggler.v1 only when offered and on', async () => {
      const on = await startServer({});
      assert.equal(await selectedProtocol(on.port, `other, ${V1}`), V1);
      assert.equal(await selectedProtocol(on.port, 'other'), undefined);
      const off = await startServer({ extensions: false });
      assert.equal(await selectedProtocol(off.port, `${V1}, other`), undefined);
    });

    it('sends a plain client no extension message and no version', async () => {
      const server = await startServer({ state: new Storage({ a: 1 }), onRequest: () => 1 });
      const client = await RawClient.connect(server.url);
      client.request(1, 'x');
      await client.response(1);
      assert.deepEqual(client.messages.map((m) => m.type), ['state', 'response']);
      assert.equal('version' in client.messages[0], false);
    });
  });

  describe('hello', () => {
    it('answers hello with welcome first, then the state with a version', async () => {
      const server = await startServer({ state: new Storage({ a: 1 }), streamWindow: 8 });
      const { client, welcome } = await extClient(server.url);
      assert.equal(client.messages[0], welcome);
      assert.equal(welcome.resumed, false);
      assert.equal(welcome.streamWindow, 8);
      assert.equal(typeof welcome.session, 'string');
      const state = await client.next((m) => m.type === 'state');
      assert.deepEqual(state.diff, [{ op: 'replace', path: '', value: { a: 1 } }]);
      assert.equal(typeof state.version, 'string');
    });

    it('sends the whole value even when it is null, and sends nothing before hello', async () => {
      const server = await startServer({});
      const client = await RawClient.connect(server.url, { protocols: [V1] });
      await delay(50);
      assert.equal(client.messages.length, 0);
      client.send({ type: 'hello' });
      await client.next((m) => m.type === 'state');
      assert.deepEqual(client.messages.map((m) => m.type), ['welcome', 'state']);
      assert.deepEqual(client.messages[1].diff, [{ op: 'replace', path: '', value: null }]);
    });

    for (const [what, first] of [
      ['a request before hello', { type: 'request', id: 1, name: 'x', data: null }],
      ['a hello with a number session', { type: 'hello', session: 5 }],
    ] as const) {
      it(`closes with 1002 on ${what}`, async () => {
        const server = await startServer({});
        const client = await RawClient.connect(server.url, { protocols: [V1] });
        client.send(first);
        assert.equal((await client.waitClose()).code, 1002);
      });
    }

    it('closes with 1002 on a second hello, and without hello within pingTimeout', async () => {
      const server = await startServer({ pingTimeout: 100 });
      const { client } = await extClient(server.url);
      client.send({ type: 'hello' });
      assert.match((await client.waitClose()).reason, /hello sent twice/);
      const silent = await RawClient.connect(server.url, { protocols: [V1] });
      const closed = await silent.waitClose(2000);
      assert.equal(closed.code, 1002);
      assert.match(closed.reason, /no hello/);
    });
  });

  describe('sessions', () => {
    it('resumes a session: same id, same per-connection state, resumed true', async () => {
      const sessions: (string | null)[] = [];
      const server = await startServer({
        onConnection(conn) {
          sessions.push(conn.session);
          if (conn.state.data === null) conn.state.set([], { visits: 0 });
          conn.state.set('visits', (conn.state.get('visits') as number) + 1);
        },
      });
      const first = await extClient(server.url);
      first.client.close();
      await first.client.waitClose();
      const second = await extClient(server.url, { session: first.welcome.session });
      assert.equal(second.welcome.resumed, true);
      assert.equal(sessions[0], sessions[1]);
      await waitFor(() => JSON.stringify(applyStates(second.client.messages)) === '{"visits":2}', 'visits 2');
    });

    it('starts a new session for a forged, altered or unknown token, never an error', async () => {
      const server = await startServer({});
      const { welcome } = await extClient(server.url);
      const [id, expiry, mac] = welcome.session.split('.');
      for (const token of ['garbage', `${id}.${expiry}.AAAA${mac.slice(4)}`, `${id}.zzzzzzzz.${mac}`, `${'A'.repeat(22)}.${expiry}.${mac}`, '']) {
        const { client, welcome: again } = await extClient(server.url, { session: token });
        assert.equal(again.resumed, false, token);
        assert.notEqual(again.session.split('.')[0], id);
        client.close();
      }
    });

    it('forgets a session sessionTimeout after its last connection', async () => {
      const server = await startServer({ sessionTimeout: 50 });
      const { client, welcome } = await extClient(server.url);
      client.close();
      await client.waitClose();
      await delay(150);
      const again = await extClient(server.url, { session: welcome.session });
      assert.equal(again.welcome.resumed, false);
    });
  });

  describe('resume by version', () => {
    it('sends nothing for the current version, one diff from a held one, the whole value otherwise', async () => {
      const shared = new Storage({ points: { a: 1, b: 2 } });
      const server = await startServer({ state: shared, autoflushDelay: 0 });
      const first = await extClient(server.url);
      const initial = await first.client.next((m) => m.type === 'state');
      shared.set(['points', 'a'], 10);
      const after = await first.client.next((m) => m.type === 'state' && m !== initial);

      const same = await extClient(server.url, { version: after.version });
      // A resume diff would leave right after welcome, before the echo's response (docs/protocol.md, "Order").
      same.client.send({ type: 'request', id: 1, name: '', data: null });
      await same.client.response(1);
      assert.equal(same.client.messages.filter((m) => m.type === 'state').length, 0);

      const old = await extClient(server.url, { version: initial.version });
      const diff = await old.client.next((m) => m.type === 'state');
      assert.deepEqual(diff.diff, [{ op: 'replace', path: '/points/a', value: 10 }]);
      assert.equal(diff.version, after.version);

      const unknown = await extClient(server.url, { version: 'nope.3' });
      const whole = await unknown.client.next((m) => m.type === 'state');
      assert.deepEqual(whole.diff, [{ op: 'replace', path: '', value: { points: { a: 10, b: 2 } } }]);
    });
  });

  describe('keyed requests', () => {
    it('runs a handler once per key, answering repeats with the first result and their own id', async () => {
      let runs = 0;
      const gate = deferred();
      const server = await startServer({
        parallelRequests: true,
        async onRequest(_conn, name) {
          const run = ++runs;
          await gate.promise;
          if (name === 'fail') throw new Error('failed once');
          return run;
        },
      });
      const { client } = await extClient(server.url);
      client.send({ type: 'request', id: 1, name: 'pay', data: null, key: 'k1' });
      client.send({ type: 'request', id: 2, name: 'pay', data: null, key: 'k1' });
      client.send({ type: 'request', id: 3, name: 'fail', data: null, key: 'k2' });
      await waitFor(() => runs >= 2, 'the handlers of k1 and k2 to run');
      gate.resolve();
      assert.deepEqual(await client.response(1), { type: 'response', id: 1, success: true, data: 1 });
      assert.deepEqual(await client.response(2), { type: 'response', id: 2, success: true, data: 1 });
      assert.equal((await client.response(3)).data, 'failed once');
      client.send({ type: 'request', id: 4, name: 'fail', data: null, key: 'k2' });
      assert.deepEqual(await client.response(4), { type: 'response', id: 4, success: false, data: 'failed once' });
      assert.equal(runs, 2);
    });

    it('remembers keys across a reconnect within the session, and lets a keyed handler finish after a drop', async () => {
      let runs = 0;
      const gate = deferred();
      const server = await startServer({
        async onRequest() {
          runs += 1;
          await gate.promise;
          return 'paid';
        },
      });
      const first = await extClient(server.url);
      first.client.send({ type: 'request', id: 1, name: 'pay', data: null, key: 'order-7' });
      await waitFor(() => runs === 1, 'the handler to start');
      first.client.ws.terminate();
      const second = await extClient(server.url, { session: first.welcome.session });
      assert.equal(second.welcome.resumed, true);
      second.client.send({ type: 'request', id: 1, name: 'pay', data: null, key: 'order-7' });
      gate.resolve();
      assert.equal((await second.client.response(1)).data, 'paid');
      assert.equal(runs, 1);
    });

    it('closes with 1002 on a key longer than 256 characters', async () => {
      const server = await startServer({ onRequest: () => 1 });
      const { client } = await extClient(server.url);
      client.send({ type: 'request', id: 1, name: 'x', data: null, key: 'k'.repeat(257) });
      assert.equal((await client.waitClose()).code, 1002);
    });
  });

  describe('client notify', () => {
    it('delivers one-way messages to onNotify in order with requests; a throw goes to onError', async () => {
      const got: JsonValue[] = [];
      const server = await startServer({
        onNotify(_conn, name, data) {
          if (name === 'boom') throw new Error('notify handler failed');
          got.push(data);
        },
        onRequest: () => [...got],
      });
      const { client } = await extClient(server.url);
      client.send({ type: 'notify', name: 'n', data: 1 });
      client.send({ type: 'notify', name: 'boom', data: null });
      client.send({ type: 'notify', name: 'n', data: 2 });
      client.send({ type: 'request', id: 1, name: 'got', data: null });
      assert.deepEqual((await client.response(1)).data, [1, 2]);
      assert.ok(server.errors.some((e) => e.kind === 'handler' && /notify handler failed/.test(e.err.message)));
      assert.equal(client.messages.filter((m) => m.type === 'response').length, 1, 'nothing sent back for notify');
    });
  });

  describe('streams', () => {
    it('answers a unary call with the returned value and stream-end', async () => {
      const server = await startServer({ onStream: (_c, name, data) => ({ name, data }) });
      const { client } = await extClient(server.url);
      client.send({ type: 'stream-open', id: 5, name: 'unary', data: 2 });
      client.send({ type: 'stream-end', id: 5 });
      await client.next((m) => m.type === 'stream-end');
      const stream = client.messages.filter((m) => m.type.startsWith('stream-'));
      assert.deepEqual(stream, [
        { type: 'stream-data', id: 5, data: { name: 'unary', data: 2 } },
        { type: 'stream-end', id: 5 },
      ]);
    });

    it('sends server-streamed data only while the client grants credit', async () => {
      const server = await startServer({
        streamWindow: 4,
        async onStream(_c, _n, count, call) {
          for (let i = 0; i < (count as number); i++) await call.send(i);
        },
      });
      const { client } = await extClient(server.url);
      client.send({ type: 'stream-open', id: 1, name: 'count', data: 10 });
      const data = () => client.messages.filter((m) => m.type === 'stream-data').map((m) => m.data);
      await waitFor(() => data().length >= 4, 'a window of items');
      // Echo round trips: an item sent beyond the credit would arrive before their responses.
      client.send({ type: 'request', id: 2, name: '', data: null });
      await client.response(2);
      assert.deepEqual(data(), [0, 1, 2, 3]);
      client.send({ type: 'stream-credit', id: 1, n: 3 });
      await waitFor(() => data().length >= 7, '3 more items');
      client.send({ type: 'request', id: 3, name: '', data: null });
      await client.response(3);
      assert.equal(data().length, 7);
      client.send({ type: 'stream-credit', id: 1, n: 10 });
      await client.next((m) => m.type === 'stream-end');
      assert.deepEqual(data(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    });

    it('reads client-streamed data, granting credit as the handler consumes it', async () => {
      const server = await startServer({
        streamWindow: 4,
        async onStream(_c, _n, _d, call) {
          let sum = 0;
          for await (const item of call) sum += item as number;
          return sum;
        },
      });
      const { client } = await extClient(server.url);
      client.send({ type: 'stream-open', id: 1, name: 'sum', data: null });
      let credit = 4;
      let sent = 0;
      while (sent < 20) {
        while (credit > 0 && sent < 20) {
          client.send({ type: 'stream-data', id: 1, data: sent++ });
          credit -= 1;
        }
        if (sent < 20) {
          const grants = client.messages.filter((m) => m.type === 'stream-credit').reduce((a, m) => a + m.n, 0);
          await waitFor(() => client.messages.filter((m) => m.type === 'stream-credit').reduce((a, m) => a + m.n, 0) > grants, 'credit');
          credit += client.messages.filter((m) => m.type === 'stream-credit').reduce((a, m) => a + m.n, 0) - grants;
        }
      }
      client.send({ type: 'stream-end', id: 1 });
      const result = await client.next((m) => m.type === 'stream-data');
      assert.equal(result.data, 190);
    });

    it('aborts call.signal when the client cancels, and when the connection goes', async () => {
      const aborted: string[] = [];
      const started: string[] = [];
      const server = await startServer({
        async onStream(_c, name, _d, call) {
          started.push(name);
          await new Promise<void>((resolve) => call.signal.addEventListener('abort', () => resolve()));
          aborted.push(name);
          await assert.rejects(call.send(1), { name: 'AbortError' });
        },
      });
      const { client } = await extClient(server.url);
      client.send({ type: 'stream-open', id: 1, name: 'cancelled', data: null });
      client.send({ type: 'stream-open', id: 2, name: 'dropped', data: null });
      await waitFor(() => started.length === 2, 'both handlers to run');
      client.send({ type: 'stream-error', id: 1, data: 'cancel' });
      await waitFor(() => aborted.includes('cancelled'), 'the cancel');
      client.ws.terminate();
      await waitFor(() => aborted.includes('dropped'), 'the drop');
    });

    it('keeps requests flowing while a stream is busy', async () => {
      const server = await startServer({
        onRequest: () => 'pong',
        async onStream(_c, _n, _d, call) {
          for (let i = 0; ; i++) await call.send(i);
        },
      });
      const { client } = await extClient(server.url);
      client.send({ type: 'stream-open', id: 1, name: 'endless', data: null });
      client.send({ type: 'request', id: 2, name: 'ping', data: null });
      assert.equal((await client.response(2)).data, 'pong');
    });

    it('answers stream-error without onStream or beyond maxStreams, and throws as stream-error', async () => {
      const none = await startServer({});
      const a = await extClient(none.url);
      a.client.send({ type: 'stream-open', id: 1, name: 'x', data: null });
      assert.match((await a.client.next((m) => m.type === 'stream-error')).data, /no onStream/);

      const limited = await startServer({
        maxStreams: 1,
        async onStream(_c, name) {
          if (name === 'throw') throw new Error('stream failed');
          await new Promise(() => {});
        },
      });
      const b = await extClient(limited.url);
      b.client.send({ type: 'stream-open', id: 1, name: 'hang', data: null });
      b.client.send({ type: 'stream-open', id: 2, name: 'more', data: null });
      assert.match((await b.client.next((m) => m.type === 'stream-error' && m.id === 2)).data, /too many open calls/);
      const c = await extClient(limited.url);
      c.client.send({ type: 'stream-open', id: 1, name: 'throw', data: null });
      assert.equal((await c.client.next((m) => m.type === 'stream-error')).data, 'stream failed');
    });

    it('ignores messages for calls that are not open; 1002 for data past credit and a reused id', async () => {
      const server = await startServer({
        streamWindow: 2,
        onRequest: () => 'ok',
        onStream: (_c, _n, _d, call) => new Promise((resolve) => call.signal.addEventListener('abort', resolve)),
      });
      const { client } = await extClient(server.url);
      client.send({ type: 'stream-data', id: 99, data: 1 });
      client.send({ type: 'stream-credit', id: 99, n: 1 });
      client.send({ type: 'stream-end', id: 99 });
      client.send({ type: 'request', id: 1, name: 'x', data: null });
      assert.equal((await client.response(1)).data, 'ok');

      client.send({ type: 'stream-open', id: 2, name: 's', data: null });
      client.send({ type: 'stream-open', id: 2, name: 's', data: null });
      assert.match((await client.waitClose()).reason, /stream id 2 is already in use/);

      const other = await extClient(server.url);
      other.client.send({ type: 'stream-open', id: 1, name: 's', data: null });
      for (let i = 0; i < 3; i++) other.client.send({ type: 'stream-data', id: 1, data: i });
      const closed = await other.client.waitClose();
      assert.equal(closed.code, 1002);
      assert.match(closed.reason, /beyond the granted credit/);
    });
  });
});
