import assert from 'node:assert/strict';
import {
  ConnectionClosedError,
  ConnectionLostError,
  ExtensionUnavailableError,
  InvalidArgumentError,
  JugglerError,
  ProtocolError,
  TimeoutError,
  type JsonValue,
  type Patch,
} from '../../src/client/index.js';
import { connectTo, errorSink } from '../support/client-helpers.js';
import { startRawServer, type RawConnection } from '../support/raw-server.js';
import { delay, waitFor } from '../support/wait.js';

/** A raw server and a client connected to it, with the server's end of the connection. */
async function pair(options: Parameters<typeof connectTo>[1] = {}, serverOptions: Parameters<typeof startRawServer>[0] = {}) {
  const server = await startRawServer(serverOptions);
  const client = await connectTo(server.url, options);
  const conn = await server.nextConnection();
  return { server, client, conn };
}

describe('Client', () => {
  describe('lifecycle', () => {
    it('is open once connect() resolves, and closes with a close frame', async () => {
      const { client, conn } = await pair();
      assert.equal(client.status, 'open');
      assert.equal(client.error, null);
      assert.equal(client.state, null);
      client.close();
      // (The asserts above narrowed the getters' types; read them afresh.)
      const error = (): Error | null => client.error;
      assert.equal(client.status, 'closing');
      assert.deepEqual(await conn.closed, { code: 1000, reason: '' });
      await client.closed;
      assert.equal(client.status, 'closed');
      assert.ok(error() instanceof ConnectionClosedError);
    });

    it('has no internal members an application could call', async () => {
      const { client } = await pair();
      for (const name of ['request', 'forget', 'abandon', 'ready']) assert.equal(name in client, false, name);
    });

    it('closes with an application code and reason', async () => {
      const { client, conn } = await pair();
      client.close(4001, 'bye now');
      assert.deepEqual(await conn.closed, { code: 4001, reason: 'bye now' });
    });

    it('close() is idempotent', async () => {
      const { client, conn } = await pair();
      client.close();
      client.close(4000, 'again');
      await client.closed;
      client.close();
      assert.deepEqual(await conn.closed, { code: 1000, reason: '' });
    });

    it('close() rejects codes an application may not send', async () => {
      const { client } = await pair();
      assert.throws(() => client.close(1002), InvalidArgumentError);
      assert.throws(() => client.close(3999), /code must be 1000 or an application code/);
      assert.throws(() => client.close(1000, 5 as unknown as string), InvalidArgumentError);
      assert.equal(client.status, 'open');
    });

    it('resolves closed when the server does not answer the close frame, after pingTimeout', async () => {
      const { client, conn } = await pair({ pingTimeout: 200 });
      // Stop reading on the server side: the close frame is never seen, never answered.
      (conn.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      const started = Date.now();
      client.close();
      await client.closed;
      const took = Date.now() - started;
      assert.ok(took >= 180 && took < 2000, `closed after ${took} ms`);
    });

    it('supports Symbol.asyncDispose', async () => {
      const { client, conn } = await pair();
      await client[Symbol.asyncDispose]();
      assert.equal(client.status, 'closed');
      assert.equal((await conn.closed).code, 1000);
    });

    it('reports a close by the server as ConnectionClosedError with its code and reason', async () => {
      const { client, conn } = await pair();
      const pending = client.send('slow', null);
      await conn.nextMessage();
      conn.close(4003, 'kicked');
      await assert.rejects(pending, (err: unknown) => err instanceof ConnectionClosedError && err.closeCode === 4003 && err.reason === 'kicked');
      await client.closed;
      assert.equal(client.status, 'closed');
      await assert.rejects(client.send('late', null), (err: unknown) => err instanceof ConnectionClosedError && err.closeCode === 4003);
    });

    it('reports a dropped connection as ConnectionLostError', async () => {
      const { client, conn } = await pair();
      const pending = client.send('slow', null);
      await conn.nextMessage();
      conn.terminate();
      await assert.rejects(pending, ConnectionLostError);
      await client.closed;
      await assert.rejects(client.send('late', null), ConnectionLostError);
    });

    it('fails requests in flight at once on close(), with ConnectionClosedError', async () => {
      const { client, conn } = await pair();
      const pending = client.send('slow', null);
      await conn.nextMessage();
      client.close(4000, 'leaving');
      await assert.rejects(pending, (err: unknown) => err instanceof ConnectionClosedError && err.closeCode === 4000 && err.reason === 'leaving');
      await assert.rejects(client.send('after', null), ConnectionClosedError);
    });

    it('on a plain connection, notify() and stream() say the extension is unavailable', async () => {
      const { client } = await pair();
      await assert.rejects(client.notify('x', 1), ExtensionUnavailableError);
      assert.throws(() => client.stream('x', 1), ExtensionUnavailableError);
    });
  });

  describe('#send', () => {
    it('sends a request message and resolves with the response data', async () => {
      const { client, conn } = await pair();
      const answer = client.send('add', { a: 1, b: 2 });
      const request = await conn.nextMessage();
      assert.deepEqual(Object.keys(request).sort(), ['data', 'id', 'name', 'type']);
      assert.equal(request.type, 'request');
      assert.equal(request.name, 'add');
      assert.deepEqual(request.data, { a: 1, b: 2 });
      assert.ok(Number.isSafeInteger(request.id));
      conn.respond(request.id, true, { sum: 3 });
      assert.deepEqual(await answer, { sum: 3 });
    });

    it('sends null for undefined data and resolves with a null result', async () => {
      const { client } = await pair({}, { onRequest: (_c, r) => ({ success: true, data: r.data }) });
      assert.equal(await client.send('x'), null);
    });

    it('pipelines: responses in any order settle their own requests', async () => {
      const { client, conn } = await pair();
      const answers = [client.send('a', 1), client.send('b', 2), client.send('c', 3)];
      const requests = [await conn.nextMessage(), await conn.nextMessage(), await conn.nextMessage()];
      assert.equal(new Set(requests.map((r) => r.id)).size, 3);
      for (const r of [...requests].reverse()) conn.respond(r.id, true, `${r.name}:${r.data}`);
      assert.deepEqual(await Promise.all(answers), ['a:1', 'b:2', 'c:3']);
    });

    it('rejects with JugglerError carrying the failure data', async () => {
      const { client } = await pair({}, { onRequest: () => ({ success: false, data: { reason: 'no', field: 'speed' } }) });
      await assert.rejects(client.send('x', null), (err: unknown) => {
        assert.ok(err instanceof JugglerError);
        assert.deepEqual(err.data, { reason: 'no', field: 'speed' });
        return true;
      });
    });

    it('rejects bad arguments without sending anything', async () => {
      const { client, conn } = await pair();
      await assert.rejects(client.send(5 as unknown as string, null), /name must be a string/);
      await assert.rejects(client.send('x', 10n as unknown as JsonValue), InvalidArgumentError);
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      await assert.rejects(client.send('x', cyclic as JsonValue), /data must be a JSON value/);
      await assert.rejects(client.send('x', null, { timeout: -1 }), /options.timeout must be a positive number/);
      await assert.rejects(client.send('x', null, { timeot: 5 } as never), /options.timeot/);
      // Messages leave in order: once this one arrived, anything sent before it has too.
      const after = client.send('', 'after');
      const first = await conn.nextMessage();
      conn.respond(first.id, true, first.data);
      await after;
      assert.deepEqual(conn.messages.map((m) => m.data), ['after'], 'nothing was sent before it');
    });

    it('times out with TimeoutError, sends nothing more, and ignores the late response', async () => {
      const { client, conn } = await pair();
      const started = Date.now();
      const answer = client.send('slow', null, { timeout: 100 });
      const request = await conn.nextMessage();
      await assert.rejects(answer, (err: unknown) => err instanceof TimeoutError && /slow/.test(err.message));
      assert.ok(Date.now() - started >= 95);
      conn.respond(request.id, true, 'late');
      // The late answer is neither an error nor mistaken for the next request's.
      const next = client.send('next', null);
      const second = await conn.nextMessage();
      assert.notEqual(second.id, request.id);
      conn.respond(second.id, true, 'fresh');
      assert.equal(await next, 'fresh');
      assert.equal(conn.messages.length, 2);
      assert.equal(client.status, 'open');
    });
  });

  describe('state', () => {
    it('is null until the first diff, then follows the diffs in place', async () => {
      const { client, conn } = await pair();
      const seen: [JsonValue, Patch][] = [];
      // Values in a diff become part of the state (no copy), so keep clones.
      client.onChange((state, diff) => seen.push(structuredClone([state, diff])));
      assert.equal(client.state, null);
      conn.sendState([{ op: 'replace', path: '', value: { items: [1], name: 'a' } }]);
      await waitFor(() => seen.length === 1, 'first diff');
      const root = client.state as unknown as { items: number[] };
      const items = root.items;
      conn.sendState([{ op: 'add', path: '/items/-', value: 2 }]);
      await waitFor(() => seen.length === 2, 'second diff');
      assert.equal(client.state, root, 'the root object is kept');
      assert.equal(root.items, items, 'the array is mutated in place');
      assert.deepEqual(client.state, { items: [1, 2], name: 'a' });
      assert.deepEqual(seen, [
        [{ items: [1], name: 'a' }, [{ op: 'replace', path: '', value: { items: [1], name: 'a' } }]],
        [{ items: [1, 2], name: 'a' }, [{ op: 'add', path: '/items/-', value: 2 }]],
      ]);
    });

    it('lets a listener registered right after connect() see a state sent at once', async () => {
      const server = await startRawServer({ onConnection: (conn) => conn.sendState([{ op: 'replace', path: '', value: 'first' }]) });
      const client = await connectTo(server.url);
      const seen: JsonValue[] = [];
      client.onChange((state) => seen.push(state));
      await waitFor(() => seen.length === 1, 'the first state');
      assert.deepEqual(seen, ['first']);
    });

    it('applies all six operations, as the Python server may send them', async () => {
      const { client, conn } = await pair();
      conn.sendState([{ op: 'replace', path: '', value: { a: { x: 1 }, list: [1, 2, 3] } }]);
      conn.sendState([
        { op: 'move', from: '/a', path: '/b' },
        { op: 'copy', from: '/b', path: '/c' },
        { op: 'test', path: '/c/x', value: 1 },
        { op: 'remove', path: '/list/0' },
        { op: 'add', path: '/list/0', value: 0 },
        { op: 'replace', path: '/c/x', value: 2 },
      ]);
      await waitFor(() => (client.state as { c?: unknown } | null)?.c !== undefined, 'second diff');
      assert.deepEqual(client.state, { b: { x: 1 }, c: { x: 2 }, list: [0, 2, 3] });
    });

    it('onChange returns its unregister function', async () => {
      const { client, conn } = await pair();
      let calls = 0;
      const stop = client.onChange(() => calls++);
      conn.sendState([{ op: 'replace', path: '', value: 1 }]);
      await waitFor(() => calls === 1, 'first call');
      stop();
      stop();
      conn.sendState([{ op: 'replace', path: '', value: 2 }]);
      await waitFor(() => client.state === 2, 'second diff');
      assert.equal(calls, 1);
      assert.throws(() => client.onChange('no' as never), InvalidArgumentError);
    });

    it('reports a listener that throws to onError and still calls the others', async () => {
      const sink = errorSink();
      const { client, conn } = await pair({ onError: sink.onError });
      let called = false;
      client.onChange(() => {
        throw new Error('listener bug');
      });
      client.onChange(() => (called = true));
      conn.sendState([{ op: 'replace', path: '', value: 1 }]);
      await waitFor(() => called, 'second listener');
      assert.equal((sink.errors[0] as Error).message, 'listener bug');
      assert.equal(client.status, 'open');
    });

    it('closes with 1002 when a diff does not apply, keeping the last good state', async () => {
      const { client, conn } = await pair();
      conn.sendState([{ op: 'replace', path: '', value: { a: 1 } }]);
      await waitFor(() => client.state !== null, 'first diff');
      const pending = client.send('x', null);
      await conn.nextMessage();
      conn.sendState([
        { op: 'add', path: '/b', value: 2 },
        { op: 'remove', path: '/missing' },
      ]);
      await assert.rejects(pending, (err: unknown) => err instanceof ProtocolError && /missing/.test(err.message));
      const { code, reason } = await conn.closed;
      assert.equal(code, 1002);
      assert.match(reason, /patch operation 1/);
      assert.deepEqual(client.state, { a: 1 });
      assert.ok(client.error instanceof ProtocolError);
    });
  });

  describe('notifications', () => {
    it('calls onNotify with name and data', async () => {
      const got: [string, JsonValue][] = [];
      const { conn } = await pair({ onNotify: (name, data) => got.push([name, data]) });
      conn.sendNotify('alarm', { level: 3 });
      conn.sendNotify('', null);
      await waitFor(() => got.length === 2, 'two notifications');
      assert.deepEqual(got, [
        ['alarm', { level: 3 }],
        ['', null],
      ]);
    });

    it('reports an onNotify that throws to onError', async () => {
      const sink = errorSink();
      const { client, conn } = await pair({
        onError: sink.onError,
        onNotify: () => {
          throw new Error('notify bug');
        },
      });
      conn.sendNotify('x', 1);
      await waitFor(() => sink.errors.length === 1, 'the error');
      assert.equal(client.status, 'open');
    });
  });

  describe('segmentation', () => {
    it('reassembles a message the server sent in many segments', async () => {
      const { client, conn } = await pair();
      const value = { text: 'x'.repeat(1000), emoji: '😀'.repeat(50) };
      conn.sendMessage({ type: 'state', diff: [{ op: 'replace', path: '', value }] }, 7);
      await waitFor(() => client.state !== null, 'state');
      assert.deepEqual(client.state, value);
    });

    it('passes on a pair that a server split as it arrived: two U+FFFD', async () => {
      const { client, conn } = await pair();
      const text = JSON.stringify({ type: 'state', diff: [{ op: 'replace', path: '', value: 'a😀b' }] });
      const cut = text.indexOf('😀') + 1;
      conn.send('1' + text.slice(0, cut));
      conn.send('0' + text.slice(cut));
      await waitFor(() => client.state !== null, 'state');
      assert.equal(client.state, 'a\uFFFD\uFFFDb');
      assert.equal(client.status, 'open');
    });

    it('cuts what it sends into segments of maxSegmentSize', async () => {
      const { client, conn } = await pair({ maxSegmentSize: 16 });
      const data = 'abcdefghij'.repeat(10);
      void client.send('long', data);
      const request = await conn.nextMessage();
      assert.equal(request.data, data);
      const frames = conn.frames.filter((f) => f[0] === '0' || f[0] === '1');
      assert.ok(frames.length > 6);
      assert.ok(frames.every((f) => f.length <= 17));
      assert.ok(frames.slice(0, -1).every((f) => f[0] === '1'));
      assert.equal(frames.at(-1)![0], '0');
    });

    it('never splits a surrogate pair at a segment boundary', async () => {
      const { client, conn } = await pair({ maxSegmentSize: 8 });
      // {"type":"request","id":1,"name":"e","data":"…"}: try every alignment of the emoji against the cut.
      for (let pad = 0; pad < 8; pad++) {
        const data = 'a'.repeat(pad) + '😀b😀';
        void client.send('e', data);
        const request = await conn.nextMessage();
        assert.equal(request.data, data);
      }
      for (const frame of conn.frames) {
        const last = frame.charCodeAt(frame.length - 1);
        assert.ok(!(last >= 0xd800 && last <= 0xdbff), `frame ends in a high surrogate: ${JSON.stringify(frame)}`);
        assert.ok(frame.length <= 9);
      }
    });
  });

  describe('pings', () => {
    it('answers a ping with its payload at once, even with requests pending', async () => {
      const { client, conn } = await pair();
      void client.send('pending', null);
      await conn.nextMessage();
      conn.send('2hello');
      await waitFor(() => conn.frames.includes('3hello'), 'the pong');
      conn.send('2');
      await waitFor(() => conn.frames.includes('3'), 'the empty pong');
    });

    it('pings a silent server after pingDelay and stays open while it answers', async () => {
      const { client, conn } = await pair({ pingDelay: 50, pingTimeout: 100 });
      await waitFor(() => conn.frames.filter((f) => f[0] === '2').length >= 3, 'three pings', 2000);
      assert.equal(client.status, 'open');
    });

    it('drops the connection when a ping goes unanswered: ConnectionLostError', async () => {
      const { client, conn } = await pair({ pingDelay: 50, pingTimeout: 100 }, { autoPong: false });
      const pending = client.send('x', null);
      await assert.rejects(pending, (err: unknown) => err instanceof ConnectionLostError && /no answer within 100 ms/.test(err.message));
      await client.closed;
      assert.ok(conn.frames.includes('2'));
      // Dropped, not closed with a handshake.
      assert.equal((await conn.closed).code, 1006);
    });

    it('does not ping with pingDelay null', async () => {
      const { conn } = await pair({ pingDelay: null, pingTimeout: 50 });
      await delay(200);
      assert.equal(conn.frames.length, 0);
    });
  });

  describe('invalid input from the server', () => {
    const cases: { name: string; send: (conn: RawConnection) => void; code: number; message: RegExp }[] = [
      { name: 'an unknown header', send: (c) => c.send('x{}'), code: 1002, message: /unknown frame header/ },
      { name: 'an empty frame', send: (c) => c.send(''), code: 1002, message: /empty frame/ },
      { name: 'invalid JSON', send: (c) => c.send('0{"type":'), code: 1002, message: /invalid JSON/ },
      { name: 'JSON that is not an object', send: (c) => c.send('0[1]'), code: 1002, message: /not a JSON object/ },
      { name: 'an unknown type', send: (c) => c.sendMessage({ type: 'welcome', session: 's' }), code: 1002, message: /unknown message type/ },
      { name: 'a response without data', send: (c) => c.sendMessage({ type: 'response', id: 1, success: true }), code: 1002, message: /data/ },
      { name: 'a fractional id', send: (c) => c.sendMessage({ type: 'response', id: 1.5, success: true, data: null }), code: 1002, message: /id/ },
      { name: 'a diff that is not an array', send: (c) => c.sendMessage({ type: 'state', diff: {} }), code: 1002, message: /diff/ },
      { name: 'a diff with a bad operation', send: (c) => c.sendState([{ op: 'nope', path: '' }]), code: 1002, message: /unknown op/ },
      { name: 'a notify without a name', send: (c) => c.sendMessage({ type: 'notify', data: 1 }), code: 1002, message: /name/ },
      { name: 'a binary frame', send: (c) => c.ws.send(Buffer.from([1, 2, 3])), code: 1003, message: /binary/ },
    ];
    for (const c of cases) {
      it(`closes with ${c.code} on ${c.name}, failing pending requests with ProtocolError`, async () => {
        const { client, conn } = await pair();
        const pending = client.send('x', null);
        await conn.nextMessage();
        c.send(conn);
        await assert.rejects(pending, (err: unknown) => err instanceof ProtocolError && err.closeCode === c.code && c.message.test(err.message));
        const closed = await conn.closed;
        assert.equal(closed.code, c.code);
        assert.match(closed.reason, c.message);
        await client.closed;
        await assert.rejects(client.send('y', null), (err: unknown) => err instanceof ConnectionClosedError && err.closeCode === c.code);
      });
    }

    it('closes with 1009 on one frame larger than maxMessageSize', async () => {
      const { client, conn } = await pair({ maxMessageSize: 1000 });
      const pending = client.send('x', null);
      await conn.nextMessage();
      conn.sendState([{ op: 'replace', path: '', value: 'x'.repeat(2000) }]);
      await assert.rejects(pending, (err: unknown) => err instanceof ProtocolError && err.closeCode === 1009);
      assert.equal((await conn.closed).code, 1009);
      assert.equal(client.state, null);
    });

    it('closes with 1009 on segments that add up to more than maxMessageSize', async () => {
      const { client, conn } = await pair({ maxMessageSize: 1000 });
      const pending = client.send('x', null);
      await conn.nextMessage();
      conn.sendMessage({ type: 'state', diff: [{ op: 'replace', path: '', value: 'x'.repeat(2000) }] }, 500);
      await assert.rejects(pending, (err: unknown) => err instanceof ProtocolError && err.closeCode === 1009 && /maxMessageSize/.test(err.message));
      assert.equal((await conn.closed).code, 1009);
    });

    it('accepts a message of exactly maxMessageSize bytes', async () => {
      const text = JSON.stringify({ type: 'notify', name: 'n', data: 'é'.repeat(100) });
      const bytes = Buffer.byteLength(text);
      let got: JsonValue = null;
      const { client, conn } = await pair({ maxMessageSize: bytes, onNotify: (_n, d) => (got = d) });
      conn.sendMessage(JSON.parse(text), 50);
      await waitFor(() => got !== null, 'the notification');
      assert.equal(client.status, 'open');
    });
  });
});
