/**
 * Streaming calls and one-way messages, our client against our server:
 * every call shape through both reading interfaces, flow control under a
 * fast producer, cancel, a lost connection, requests beside a busy stream.
 */
import assert from 'node:assert/strict';
import {
  ConnectionClosedError,
  ConnectionLostError,
  JugglerError,
  type ClientCall,
  type JsonValue,
} from '../../src/client/index.js';
import { JugglerError as ServerJugglerError, type ListenOptions } from '../../src/index.js';
import { connectTo, reconnectTo } from '../support/client-helpers.js';
import { startRawServer } from '../support/raw-server.js';
import { startServer } from '../support/server.js';
import { deferred, waitFor, within } from '../support/wait.js';

/** Reads a call through its events into a promise of all items. */
function viaEvents(call: ClientCall): Promise<JsonValue[]> {
  return new Promise((resolve, reject) => {
    const items: JsonValue[] = [];
    call.on('data', (item) => items.push(item));
    call.on('end', () => resolve(items));
    call.on('error', reject);
  });
}

async function viaIterator(call: ClientCall): Promise<JsonValue[]> {
  const items: JsonValue[] = [];
  for await (const item of call) items.push(item);
  return items;
}

const READERS = { iterator: viaIterator, events: viaEvents } as const;

/** The four call shapes, one server. */
const SHAPES: ListenOptions = {
  async onStream(_conn, name, data, call) {
    switch (name) {
      case 'unary':
        return { doubled: (data as number) * 2 };
      case 'count':
        for (let i = 0; i < (data as number); i++) await call.send(i);
        return undefined;
      case 'sum': {
        let sum = 0;
        for await (const item of call) sum += item as number;
        return sum;
      }
      case 'echo':
        for await (const item of call) await call.send(`echo ${item}`);
        return 'bye';
      case 'fail':
        throw new ServerJugglerError({ code: 'E_NOPE', data });
      default:
        throw new Error(`unknown call ${name}`);
    }
  },
};

describe('koa-juggler.v1 streams and notify (client)', () => {
  for (const [how, read] of Object.entries(READERS)) {
    describe(`read with ${how}`, () => {
      it('makes a unary call', async () => {
        const server = await startServer(SHAPES);
        const client = await connectTo(server.url);
        assert.deepEqual(await read(client.stream('unary', 21)), [{ doubled: 42 }]);
      });

      it('makes a server-streaming call', async () => {
        const server = await startServer({ ...SHAPES, streamWindow: 8 });
        const client = await connectTo(server.url);
        assert.deepEqual(await read(client.stream('count', 50)), Array.from({ length: 50 }, (_, i) => i));
      });

      it('makes a client-streaming call', async () => {
        const server = await startServer({ ...SHAPES, streamWindow: 4 });
        const client = await connectTo(server.url);
        const call = client.stream('sum', null);
        const result = read(call);
        // More items than the window: send() waits for the server's credit.
        for (let i = 1; i <= 100; i++) await call.send(i);
        call.end();
        assert.deepEqual(await result, [5050]);
        assert.equal(call.done, true);
      });

      it('makes a bidirectional call', async () => {
        const server = await startServer({ ...SHAPES, streamWindow: 2 });
        const client = await connectTo(server.url);
        const call = client.stream('echo', null);
        const result = read(call);
        for (const word of ['a', 'b', 'c', 'd', 'e']) await call.send(word);
        call.end();
        assert.deepEqual(await result, ['echo a', 'echo b', 'echo c', 'echo d', 'echo e', 'bye']);
      });

      it('fails with JugglerError carrying the data of a stream-error', async () => {
        const server = await startServer(SHAPES);
        const client = await connectTo(server.url);
        await assert.rejects(read(client.stream('fail', 5)), (err: unknown) => {
          assert.ok(err instanceof JugglerError);
          assert.deepEqual(err.data, { code: 'E_NOPE', data: 5 });
          return true;
        });
      });
    });
  }

  it('ends a call that sent nothing when the server ends, so the server frees it', async () => {
    const server = await startServer({ ...SHAPES, maxStreams: 2 });
    const client = await connectTo(server.url);
    // More calls than maxStreams, one after the other: none is left open on the server.
    for (let i = 0; i < 5; i++) assert.deepEqual(await viaIterator(client.stream('unary', i)), [{ doubled: 2 * i }]);
    for (let i = 0; i < 5; i++) assert.equal((await viaEvents(client.stream('count', 3))).length, 3);
  });

  it('runs calls and requests side by side, sharing one id space', async () => {
    const server = await startRawServer({ protocol: 'koa-juggler.v1' });
    const pending = connectTo(server.url);
    const conn = await server.nextConnection();
    await conn.nextMessage();
    conn.sendMessage({ type: 'welcome', session: 's', resumed: false, streamWindow: 4 });
    const client = await pending;
    void client.send('a', null).catch(() => {});
    client.stream('b', null);
    void client.send('c', null).catch(() => {});
    client.stream('d', null);
    const messages = [await conn.nextMessage(), await conn.nextMessage(), await conn.nextMessage(), await conn.nextMessage()];
    assert.deepEqual(messages.map((m) => m.type), ['request', 'stream-open', 'request', 'stream-open']);
    assert.equal(new Set(messages.map((m) => m.id)).size, 4);
    assert.ok(messages.every((m) => typeof m.key === 'undefined'), 'connect() adds no key by itself');
  });

  describe('flow control', () => {
    it('keeps the client\'s buffer within the window and the producer within a window of the reader, over 100,000 items', async function () {
      this.timeout(60_000);
      const WINDOW = 64;
      const TOTAL = 100_000;
      let produced = 0;
      const server = await startServer({
        streamWindow: WINDOW,
        async onStream(_conn, _name, _data, call) {
          for (let i = 0; i < TOTAL; i++) {
            await call.send(i);
            produced += 1;
          }
        },
      });
      const client = await connectTo(server.url);
      const call = client.stream('firehose', null);
      let consumed = 0;
      let maxBuffered = 0;
      let maxAhead = 0;
      for await (const item of call) {
        assert.equal(item, consumed);
        consumed += 1;
        maxBuffered = Math.max(maxBuffered, call.buffered);
        maxAhead = Math.max(maxAhead, produced - consumed);
        if (consumed % 10_000 === 0) {
          // A slow reader: the producer uses the credit it has (more than half the window, which
          // comes back in batches of half) and stops there. An item past it would arrive before
          // the echo's answer (messages to one connection leave in order).
          await waitFor(
            () => consumed === TOTAL || (call.buffered > WINDOW / 2 && call.buffered === produced - consumed),
            'the producer to use its credit while the reader sleeps',
          );
          await client.send('', null);
          assert.ok(produced - consumed <= WINDOW, `${produced - consumed} items ahead while the reader sleeps`);
          assert.ok(call.buffered <= WINDOW, `${call.buffered} buffered while the reader sleeps`);
          maxBuffered = Math.max(maxBuffered, call.buffered);
        }
      }
      assert.equal(consumed, TOTAL);
      assert.ok(maxBuffered <= WINDOW, `at most ${maxBuffered} items buffered by the client`);
      assert.ok(maxAhead <= WINDOW, `the producer was at most ${maxAhead} items ahead of the reader`);
    });

    it('grants credit per delivery to data listeners, so an event reader gets everything', async () => {
      const server = await startServer({ ...SHAPES, streamWindow: 4 });
      const client = await connectTo(server.url);
      const items = await viaEvents(client.stream('count', 1000));
      assert.equal(items.length, 1000);
    });

    it('keeps requests and state flowing while a stream is busy and its reader is not reading', async () => {
      const server = await startServer({
        streamWindow: 16,
        onRequest: (_conn, _name, data) => data,
        async onStream(_conn, _name, _data, call) {
          for (let i = 0; ; i++) await call.send('x'.repeat(1000));
        },
      });
      const client = await connectTo(server.url);
      const call = client.stream('endless', null);
      await waitFor(() => call.buffered === 16, 'a full window');
      for (let i = 0; i < 20; i++) assert.equal(await within(client.send('ping', i), 1000, 'the answer'), i);
      assert.equal(call.buffered, 16, 'nothing beyond the window arrived');
      call.cancel();
    });
  });

  describe('cancel and connection loss', () => {
    it('cancel() aborts the server\'s call.signal; the iterator just finishes', async () => {
      const aborted = deferred<unknown>();
      const server = await startServer({
        async onStream(_conn, _name, _data, call) {
          call.signal.addEventListener('abort', () => aborted.resolve(call.signal.reason));
          for (let i = 0; ; i++) await call.send(i);
        },
      });
      const client = await connectTo(server.url);
      const call = client.stream('endless', null);
      const errors: Error[] = [];
      const ended = deferred();
      call.on('error', (err) => errors.push(err));
      call.on('end', () => ended.resolve());
      const got: JsonValue[] = [];
      for await (const item of call) {
        got.push(item);
        if (got.length === 3) call.cancel();
      }
      assert.deepEqual(got, [0, 1, 2]);
      await within(aborted.promise, 2000, 'call.signal to abort');
      await within(ended.promise, 1000, 'end');
      assert.deepEqual(errors, []);
      await assert.rejects(call.send(1), { name: 'AbortError' });
      assert.equal(await client.send('', 'still open'), 'still open');
    });

    it('breaking out of a for-await cancels the call', async () => {
      const aborted = deferred();
      const server = await startServer({
        async onStream(_conn, _name, _data, call) {
          call.signal.addEventListener('abort', () => aborted.resolve());
          for (let i = 0; ; i++) await call.send(i);
        },
      });
      const client = await connectTo(server.url);
      for await (const item of client.stream('endless', null)) if (item === 5) break;
      await within(aborted.promise, 2000, 'call.signal to abort');
    });

    it('fails a call cut by a lost connection with ConnectionLostError: iterator, error event and send()', async () => {
      const serverAborted = deferred();
      const server = await startServer({
        async onStream(_conn, _name, _data, call) {
          call.signal.addEventListener('abort', () => serverAborted.resolve());
          await call.send('first');
          await new Promise(() => {});
        },
      });
      const client = await connectTo(server.url, { pingDelay: null });
      const call = client.stream('hang', null);
      const errors: Error[] = [];
      call.on('error', (err) => errors.push(err));
      const it = call[Symbol.asyncIterator]();
      assert.deepEqual(await it.next(), { value: 'first', done: false });
      const next = it.next();
      [...server.connections][0]!.destroy();
      await assert.rejects(next, ConnectionLostError);
      assert.equal(errors.length, 1);
      assert.ok(errors[0] instanceof ConnectionLostError);
      await assert.rejects(call.send(1), ConnectionLostError);
      await within(serverAborted.promise, 2000, 'the server call to abort');
    });

    it('fails open calls with ConnectionClosedError (code and reason) when the server closes', async () => {
      const server = await startServer({
        onStream: (conn) => {
          // Once the call is open on both sides (the server is running its handler).
          conn.close(4001, 'maintenance');
          return new Promise(() => {});
        },
      });
      const client = await connectTo(server.url);
      await assert.rejects(viaIterator(client.stream('hang', null)), (err: unknown) => {
        assert.ok(err instanceof ConnectionClosedError);
        assert.equal(err.code, 4001);
        assert.equal(err.closeCode, 4001);
        assert.equal(err.reason, 'maintenance');
        return true;
      });
      assert.throws(() => client.stream('again', null), ConnectionClosedError);
    });

    it('does not resume a call after a reconnect: it fails, new calls work on the new connection', async () => {
      const server = await startServer(SHAPES);
      const live = reconnectTo(server.url, { backoff: { initial: 10, max: 20, jitter: 0 } });
      await waitFor(() => live.connected, 'the connection');
      const call = live.stream('sum', null);
      await call.send(1);
      [...server.connections][0]!.destroy();
      await assert.rejects(viaIterator(call), ConnectionLostError);
      await waitFor(() => live.connected, 'the reconnection');
      assert.deepEqual(await viaIterator(live.stream('unary', 2)), [{ doubled: 4 }]);
    });
  });

  describe('notify()', () => {
    it('delivers one-way messages in order with requests; nothing comes back', async () => {
      const got: JsonValue[] = [];
      const server = await startServer({
        onNotify: (_conn, name, data) => {
          got.push([name, data]);
        },
        onRequest: () => got.slice(),
      });
      const client = await connectTo(server.url);
      await client.notify('a', 1);
      await client.notify('b', { two: 2 });
      assert.deepEqual(await client.send('seen', null), [['a', 1], ['b', { two: 2 }]]);
      const live = reconnectTo(server.url);
      await waitFor(() => live.connected, 'the connection');
      await live.notify('c', null);
      await waitFor(() => got.length === 3, 'the third notify');
    });

    it('rejects bad arguments, and after the connection ended', async () => {
      const server = await startServer({});
      const client = await connectTo(server.url);
      await assert.rejects(client.notify(5 as unknown as string, 1), /name must be a string/);
      await assert.rejects(client.notify('x', 10n as unknown as JsonValue), /data must be a JSON value/);
      assert.throws(() => client.stream('x', 10n as unknown as JsonValue), /data must be a JSON value/);
      client.close();
      await assert.rejects(client.notify('x', 1), ConnectionClosedError);
    });
  });
});
