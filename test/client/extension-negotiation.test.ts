/**
 * Negotiating koa-juggler.v1 from the client: against our server with and
 * without the extension, against a plain juggler server that selects no
 * subprotocol (as Python's hat-juggler), the per-address memory, and what
 * the client says first on an extension connection.
 */
import assert from 'node:assert/strict';
import {
  connect,
  ConnectError,
  ConnectionClosedError,
  ExtensionUnavailableError,
  ProtocolError,
  type JsonValue,
} from '../../src/client/index.js';
import { forgetPlainAddress, isKnownPlain } from '../../src/client/connect.js';
import { Storage } from '../../src/index.js';
import { connectTo, reconnectTo } from '../support/client-helpers.js';
import { startRawServer } from '../support/raw-server.js';
import { startServer } from '../support/server.js';
import { delay, waitFor } from '../support/wait.js';

const V1 = 'koa-juggler.v1';
const offered = (req: { headers: Record<string, unknown> }) => req.headers['sec-websocket-protocol'];

describe('koa-juggler.v1 negotiation (client)', () => {
  beforeEach(() => forgetPlainAddress());

  describe('with our server', () => {
    it('uses the extension: connect() resolves after welcome, with the session known', async () => {
      const server = await startServer({ state: new Storage({ a: 1 }), onRequest: (_c, _n, data) => data });
      const client = await connectTo(server.url);
      assert.equal(client.extension, true);
      assert.equal(typeof client.session, 'string');
      assert.ok(client.session!.length > 20);
      assert.equal(client.resumed, false);
      assert.equal(await client.send('echo', 5), 5);
      await waitFor(() => client.state !== null, 'the state');
      assert.deepEqual(client.state, { a: 1 });
      assert.equal(typeof client.version, 'string');
      const [conn] = [...server.connections];
      assert.equal(conn!.session, client.session!.split('.')[0]);
      assert.equal(isKnownPlain(server.url), false);
    });

    it('lets a listener registered right after connect() see the state that followed welcome', async () => {
      const server = await startServer({ state: new Storage({ first: true }) });
      const client = await connectTo(server.url);
      const seen: JsonValue[] = [];
      client.onChange((state) => seen.push(structuredClone(state)));
      await waitFor(() => seen.length === 1, 'the first state');
      assert.deepEqual(seen, [{ first: true }]);
    });

    it('works as a plain client when the server has extensions: false, and remembers the address', async () => {
      const server = await startServer({ extensions: false, state: new Storage('plain'), onRequest: () => 'ok' });
      const client = await connectTo(server.url);
      assert.equal(client.extension, false);
      assert.equal(client.session, null);
      assert.equal(client.version, null);
      assert.equal(await client.send('x', null, { key: 'ignored on a plain connection' }), 'ok');
      await waitFor(() => client.state === 'plain', 'the state');
      assert.equal(client.version, null, 'plain state messages carry no version');
      await assert.rejects(client.notify('n', 1), ExtensionUnavailableError);
      assert.throws(() => client.stream('s', 1), ExtensionUnavailableError);
      assert.equal(isKnownPlain(server.url), true);
    });

    it('never offers the extension with extensions: false', async () => {
      const server = await startServer({});
      const client = await connectTo(server.url, { extensions: false });
      assert.equal(client.extension, false);
      assert.equal([...server.connections][0]!.session, null);
    });
  });

  describe('with a plain juggler server (selects no subprotocol)', () => {
    it('retries at once without the offer, then remembers not to offer it to that address', async () => {
      const server = await startRawServer({ onRequest: (_c, r) => ({ success: true, data: r.data }) });
      const first = await connectTo(server.url);
      assert.equal(first.extension, false);
      assert.deepEqual(server.upgrades.map(offered), [V1, undefined]);
      assert.equal(server.declined.length, 1);
      assert.equal(await first.send('echo', 'plain'), 'plain');
      const conn = server.connections[0]!;
      assert.deepEqual(conn.messages[0], { type: 'request', id: conn.messages[0].id, name: 'echo', data: 'plain' });

      const second = await connectTo(server.url);
      assert.equal(second.extension, false);
      assert.deepEqual(server.upgrades.map(offered), [V1, undefined, undefined]);
      assert.equal(isKnownPlain(server.url), true);
      // Another address is still offered the extension.
      const other = await startRawServer();
      await connectTo(other.url);
      assert.deepEqual(other.upgrades.map(offered), [V1, undefined]);
    });

    it('keeps reconnect() working as a plain juggler client, each connection\'s state replacing the last', async () => {
      await reconnectsAsPlain(null, [V1, undefined, undefined]);
    });

    it('does not retry a failure that is not about the subprotocol', async () => {
      const server = await startRawServer({ refuse: () => 404 });
      await assert.rejects(connect(server.url), (err: unknown) => err instanceof ConnectError && err.status === 404);
      assert.deepEqual(server.upgrades.map(offered), [V1]);
      assert.equal(isKnownPlain(server.url), false);
    });
  });

  describe('on an extension connection', () => {
    it('says hello first, with session and version when given, and resolves only after welcome', async () => {
      const server = await startRawServer({ protocol: V1 });
      let resolved = false;
      const attempt = connect(server.url, { session: 'token-1', version: 'v1', state: { a: 1 } }).then((client) => {
        resolved = true;
        return client;
      });
      const conn = await server.nextConnection();
      assert.deepEqual(await conn.nextMessage(), { type: 'hello', session: 'token-1', version: 'v1' });
      await delay(50);
      assert.equal(resolved, false, 'connect() waits for welcome');
      conn.sendMessage({ type: 'welcome', session: 'token-2', resumed: true, streamWindow: 8 });
      const client = await attempt;
      try {
        assert.equal(client.session, 'token-2');
        assert.equal(client.resumed, true);
        assert.deepEqual(client.state, { a: 1 }, 'it starts from the state it resumes');
        assert.equal(client.version, 'v1');
        conn.sendMessage({ type: 'state', diff: [{ op: 'replace', path: '/a', value: 2 }], version: 'v2' });
        await waitFor(() => client.version === 'v2', 'the diff');
        assert.deepEqual(client.state, { a: 2 });
      } finally {
        client.close();
      }
    });

    it('says an empty hello on a first connection, and no version without the state it names', async () => {
      const server = await startRawServer({ protocol: V1 });
      const first = connect(server.url);
      const conn = await server.nextConnection();
      assert.deepEqual(await conn.nextMessage(), { type: 'hello' });
      conn.sendMessage({ type: 'welcome', session: 's', resumed: false, streamWindow: 4 });
      (await first).close();
      const second = connect(server.url, { session: 's', version: 'v9' });
      const conn2 = await server.nextConnection();
      assert.deepEqual(await conn2.nextMessage(), { type: 'hello', session: 's' });
      conn2.sendMessage({ type: 'welcome', session: 's', resumed: true, streamWindow: 4 });
      const client = await second;
      assert.equal(client.state, null);
      assert.equal(client.version, null);
      client.close();
    });

    it('rejects connect() with a ConnectError of kind timeout when no welcome comes within connectTimeout', async () => {
      const server = await startRawServer({ protocol: V1 });
      const started = Date.now();
      await assert.rejects(connect(server.url, { connectTimeout: 200 }), (err: unknown) => err instanceof ConnectError && err.kind === 'timeout');
      assert.ok(Date.now() - started < 1500);
      const conn = server.connections[0]!;
      assert.equal((await conn.closed).code, 1006, 'the attempt was dropped');
    });

    it('rejects connect() with the close error when the server closes before welcome', async () => {
      const server = await startRawServer({ protocol: V1, onConnection: (conn) => conn.close(1008, 'not you') });
      await assert.rejects(connect(server.url), (err: unknown) => err instanceof ConnectionClosedError && err.code === 1008 && err.reason === 'not you');
    });

    it('rejects connect() with ProtocolError (close 1002) when the first message is not one plain juggler knows either', async () => {
      const server = await startRawServer({ protocol: V1, onConnection: (conn) => conn.sendMessage({ type: 'stream-end', id: 1 }) });
      await assert.rejects(connect(server.url), (err: unknown) => err instanceof ProtocolError && /first message must be welcome, not stream-end/.test(err.message));
      assert.equal((await server.connections[0]!.closed).code, 1002);
      assert.equal(isKnownPlain(server.url), false);
    });
  });

  describe('with a server that selects koa-juggler.v1 without speaking it (ws echoes the first offer)', () => {
    it('falls back to plain juggler when the first message is a state: state applied, requests work, remembered', async () => {
      const server = await startRawServer({
        protocol: V1,
        onConnection: (conn) => conn.sendState([{ op: 'replace', path: '', value: { a: 1 } }]),
        onRequest: (_c, r) => ({ success: true, data: r.data }),
      });
      const client = await connectTo(server.url, { session: 'old-token', version: 'v7', state: { stale: true } });
      assert.equal(client.extension, false);
      assert.equal(client.session, null);
      assert.equal(client.resumed, false);
      const seen: JsonValue[] = [];
      client.onChange((state) => seen.push(structuredClone(state)));
      await waitFor(() => seen.length === 1, 'the first state');
      assert.deepEqual(seen, [{ a: 1 }], 'a listener registered right after connect() sees the first state');
      assert.equal(client.version, null, 'no version on a plain connection');
      assert.equal(await client.send('echo', 3, { key: 'k1' }), 3);
      const conn = server.connections[0]!;
      assert.equal(conn.messages[0].type, 'hello');
      const request = conn.messages.find((m: { type: string }) => m.type === 'request');
      assert.deepEqual(request, { type: 'request', id: request.id, name: 'echo', data: 3 }, 'no key to a plain server');
      await assert.rejects(client.notify('n', 1), ExtensionUnavailableError);
      assert.throws(() => client.stream('s', 1), ExtensionUnavailableError);
      assert.equal(isKnownPlain(server.url), true);

      const second = await connectTo(server.url);
      assert.equal(second.extension, false);
      assert.deepEqual(server.upgrades.map(offered), [V1, undefined], 'the extension is not offered to that address again');
      await waitFor(() => second.state !== null, 'the second state');
      assert.deepEqual(second.state, { a: 1 });
    });

    it('falls back when the first message is a response or a notify', async () => {
      const notified: JsonValue[] = [];
      const first = await startRawServer({
        protocol: V1,
        onConnection: (conn) => {
          conn.respond(99, true, 'late answer to nothing');
          conn.sendState([{ op: 'replace', path: '', value: 'r' }]);
        },
        onRequest: () => ({ success: true, data: 'ok' }),
      });
      const a = await connectTo(first.url);
      assert.equal(a.extension, false);
      assert.equal(await a.send('x'), 'ok');
      await waitFor(() => a.state === 'r', 'the state after the response');
      assert.equal(isKnownPlain(first.url), true);

      const second = await startRawServer({
        protocol: V1,
        onConnection: (conn) => conn.sendNotify('hi', { n: 1 }),
      });
      const b = await connectTo(second.url, { onNotify: (name, data) => notified.push([name, data]) });
      assert.equal(b.extension, false);
      await waitFor(() => notified.length === 1, 'the notify');
      assert.deepEqual(notified, [['hi', { n: 1 }]]);
      assert.equal(isKnownPlain(second.url), true);
    });

    it('keeps reconnect() working on such a server, as a plain client', async () => {
      await reconnectsAsPlain(V1, [V1, undefined]);
    });
  });
});

/**
 * A reconnecting client on a plain juggler server that selects `protocol`
 * when offered, closed once after its first state: it runs as a plain
 * client, each connection's state replacing the last (never null in
 * between); `offers` are the
 * subprotocols each upgrade offered.
 */
async function reconnectsAsPlain(protocol: string | null, offers: unknown[]): Promise<void> {
  let n = 0;
  const server = await startRawServer({
    protocol,
    onConnection: (conn) => {
      conn.sendState([{ op: 'replace', path: '', value: { run: ++n } }]);
      if (n === 1) setTimeout(() => conn.close(4000, 'again'), 50);
    },
  });
  const states: JsonValue[] = [];
  const live = reconnectTo(server.url, { backoff: { initial: 10, max: 20, jitter: 0 } });
  live.onChange((state) => states.push(structuredClone(state)));
  await waitFor(() => states.length === 2, 'two connections');
  assert.deepEqual(states, [{ run: 1 }, { run: 2 }]);
  assert.equal(live.session, null);
  assert.equal(live.version, null);
  await assert.rejects(live.notify('n', 1), ExtensionUnavailableError);
  assert.deepEqual(server.upgrades.map(offered), offers);
}
