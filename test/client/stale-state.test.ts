/**
 * The client's `stale` and its state across reconnects: no flash of null
 * after a server restart (the old value is kept, stale, until the new
 * connection's first state, then replaced in one onChange), the null-state
 * server that sends no state (first response, or STATE_WAIT), the
 * extension's `status` message, and `snapshots: true` over a real server.
 */
import assert from 'node:assert/strict';
import { connect, InvalidArgumentError, ProtocolError, reconnect, type JsonValue } from '../../src/client/index.js';
import { STATE_WAIT } from '../../src/client/reconnect.js';
import { listen, Storage } from '../../src/index.js';
import type { Patch } from '../../src/state/patch.js';
import { onCleanup } from '../support/cleanup.js';
import { connectTo, reconnectTo } from '../support/client-helpers.js';
import { startRawServer, type RawConnection, type RawServerOptions } from '../support/raw-server.js';
import { startServer } from '../support/server.js';
import { waitFor } from '../support/wait.js';

const FAST = { initial: 20, max: 40, jitter: 0 };
const EXT = 'koa-juggler.v1';

/** A raw extension server: welcome (not resumed unless `resumed`), then `then(conn)`. */
function extension(then: (conn: RawConnection) => void, options: RawServerOptions & { resumed?: boolean } = {}): RawServerOptions {
  return {
    ...options,
    protocol: EXT,
    onConnection: (conn) => {
      void conn.nextMessage().then(() => {
        conn.sendMessage({ type: 'welcome', session: 'tok', resumed: options.resumed ?? false, streamWindow: 4 });
        then(conn);
      });
    },
  };
}

/** Records a reconnecting client's changes (cloned) and diffs, and the `stale` it had at each. */
function recorder() {
  const changes: { state: JsonValue; diff: Patch }[] = [];
  return { changes, record: (state: JsonValue, diff: Patch) => changes.push({ state: structuredClone(state), diff: structuredClone(diff) }) };
}

describe('client: stale state and snapshots', () => {
  describe('reconnect(): no flash of null', () => {
    it('keeps the old state, stale, across a server restart, then switches to the new one in one onChange', async () => {
      const first = await startServer({ state: new Storage({ server: 'first', n: 1 }), autoflushDelay: 0 });
      const statuses: boolean[] = [];
      const { changes, record } = recorder();
      const live = reconnectTo(first.url, { backoff: FAST, onStatus: (stale) => statuses.push(stale) });
      live.onChange(record);
      await waitFor(() => changes.length === 1, 'the first state');
      const old = live.state;
      assert.equal(live.stale, false);
      const port = first.port;
      await first.close();
      await waitFor(() => live.stale, 'stale after the disconnect');
      assert.equal(live.state, old);
      assert.deepEqual(statuses, [true]);
      const second = await listen({ host: '127.0.0.1', port, state: new Storage({ server: 'second' }), onError: () => {} });
      onCleanup(() => second.close());
      await waitFor(() => changes.length === 2, 'the second server\'s state');
      assert.deepEqual(changes, [
        { state: { server: 'first', n: 1 }, diff: [{ op: 'replace', path: '', value: { server: 'first', n: 1 } }] },
        { state: { server: 'second' }, diff: [{ op: 'replace', path: '', value: { server: 'second' } }] },
      ]);
      assert.equal(live.stale, false);
      assert.deepEqual(statuses, [true, false]);
    });

    it('keeps the old state while a plain server with a null state says nothing, then null after STATE_WAIT', async () => {
      let sendState = true;
      const server = await startRawServer({ onConnection: (conn) => sendState && conn.sendState([{ op: 'replace', path: '', value: { a: 1 } }]) });
      const { changes, record } = recorder();
      const connected: number[] = [];
      const live = reconnectTo(server.url, { backoff: FAST, onConnected: () => connected.push(Date.now()) });
      live.onChange(record);
      await waitFor(() => changes.length === 1, 'the first state');
      sendState = false;
      server.connections[0]!.close(1001);
      await waitFor(() => connected.length === 2, 'the second connection');
      assert.deepEqual(live.state, { a: 1 });
      assert.equal(live.stale, true);
      await waitFor(() => changes.length === 2, 'the switch to null', STATE_WAIT * 3);
      assert.ok(Date.now() - connected[1]! >= STATE_WAIT - 20, 'not before STATE_WAIT');
      assert.deepEqual(changes[1], { state: null, diff: [{ op: 'replace', path: '', value: null }] });
      assert.equal(live.state, null);
      assert.equal(live.stale, false);
    });

    it('takes the first response as the sign that no state is coming', async () => {
      let sendState = true;
      const server = await startRawServer({
        onConnection: (conn) => sendState && conn.sendState([{ op: 'replace', path: '', value: { a: 1 } }]),
        onRequest: (_conn, req) => ({ success: true, data: req.data }),
      });
      const { changes, record } = recorder();
      const live = reconnectTo(server.url, { backoff: FAST });
      live.onChange(record);
      await waitFor(() => changes.length === 1, 'the first state');
      sendState = false;
      server.connections[0]!.close(1001);
      await waitFor(() => live.connected && server.connections.length === 2, 'the second connection');
      const started = Date.now();
      assert.equal(await live.send('echo', 7), 7);
      assert.ok(Date.now() - started < STATE_WAIT, 'well before STATE_WAIT');
      assert.equal(live.state, null);
      assert.equal(live.stale, false);
      assert.deepEqual(changes.map((c) => c.state), [{ a: 1 }, null]);
    });

    it('keeps the value without an onChange when a resumed version is current and nothing comes', async () => {
      let first = true;
      const server = await startRawServer(
        extension(
          (conn) => {
            if (first) conn.sendMessage({ type: 'state', version: 'v1', diff: [{ op: 'replace', path: '', value: { a: 1 } }] });
            first = false;
          },
          { resumed: true },
        ),
      );
      const { changes, record } = recorder();
      const live = reconnectTo(server.url, { backoff: FAST });
      live.onChange(record);
      await waitFor(() => changes.length === 1, 'the first state');
      const old = live.state;
      server.connections[0]!.close(1001);
      const hello = await waitFor(() => server.connections[1]?.messages[0], 'the second hello');
      assert.deepEqual(hello, { type: 'hello', session: 'tok', version: 'v1' });
      await waitFor(() => live.connected, 'connected again');
      assert.equal(live.stale, true);
      await waitFor(() => !live.stale, 'not stale', STATE_WAIT * 3);
      assert.equal(live.state, old);
      assert.equal(changes.length, 1);
    });
  });

  describe('the status message', () => {
    it('sets client.stale and calls onStatus on each change (connect())', async () => {
      const server = await startRawServer(extension(() => {}));
      const statuses: boolean[] = [];
      const changes: boolean[] = [];
      const client = await connectTo(server.url, { onStatus: (stale) => statuses.push(stale) });
      client.onStatusChange(() => changes.push(client.stale));
      const conn = server.connections[0]!;
      assert.equal(client.stale, false);
      conn.sendMessage({ type: 'status', stale: true });
      await waitFor(() => client.stale, 'stale');
      conn.sendMessage({ type: 'status', stale: true });
      conn.sendMessage({ type: 'state', version: 'v1', diff: [{ op: 'replace', path: '', value: 1 }] });
      await waitFor(() => client.state === 1, 'a diff applied while stale');
      conn.sendMessage({ type: 'status', stale: false });
      await waitFor(() => !client.stale, 'live again');
      assert.deepEqual(statuses, [true, false]);
      assert.deepEqual(changes, [true, false]);
    });

    it('shows through live.stale and onStatus (reconnect())', async () => {
      const server = await startRawServer(extension((conn) => conn.sendMessage({ type: 'state', version: 'v1', diff: [{ op: 'replace', path: '', value: 1 }] })));
      const statuses: boolean[] = [];
      const live = reconnectTo(server.url, { backoff: FAST, onStatus: (stale) => statuses.push(stale) });
      await waitFor(() => live.state === 1, 'the state');
      server.connections[0]!.sendMessage({ type: 'status', stale: true });
      await waitFor(() => live.stale, 'stale');
      server.connections[0]!.sendMessage({ type: 'status', stale: false });
      await waitFor(() => !live.stale, 'live again');
      assert.deepEqual(statuses, [true, false]);
    });

    it('is a protocol error on a plain connection, and a stale field that is not a boolean on any', async () => {
      const plain = await startRawServer({ onConnection: (conn) => conn.sendMessage({ type: 'status', stale: true }) });
      const a = await connect(plain.url);
      await a.closed;
      assert.ok(a.error instanceof ProtocolError && /unknown message type "status"/.test(a.error.message));
      const ext = await startRawServer(extension((conn) => conn.sendMessage({ type: 'status', stale: 'yes' })));
      const b = await connect(ext.url);
      await b.closed;
      assert.ok(b.error instanceof ProtocolError && /status stale must be a boolean/.test(b.error.message));
    });
  });

  describe('snapshots: true', () => {
    it('gives a new root and new objects along the changed path, the rest shared; in place without it', async () => {
      const state = new Storage({ a: { x: 1 }, b: { y: 1 } });
      const server = await startServer({ state, autoflushDelay: 0 });
      const snap = await connectTo(server.url, { snapshots: true });
      const inPlace = await connectTo(server.url);
      assert.equal(snap.snapshots, true);
      assert.equal(inPlace.snapshots, false);
      await waitFor(() => snap.state !== null && inPlace.state !== null, 'the first states');
      const [before, beforeInPlace] = [snap.state as { a: object; b: object }, inPlace.state];
      state.set(['b', 'y'], 2);
      await waitFor(() => (snap.state as { b: { y: number } }).b.y === 2 && (inPlace.state as { b: { y: number } }).b.y === 2, 'the change');
      const after = snap.state as { a: object; b: object };
      assert.notEqual(after, before);
      assert.notEqual(after.b, before.b);
      assert.equal(after.a, before.a);
      assert.deepEqual(before, { a: { x: 1 }, b: { y: 1 } });
      assert.equal(inPlace.state, beforeInPlace);
    });

    it('refuses snapshots and onStatus options of the wrong type', async () => {
      await assert.rejects(connect('ws://127.0.0.1:1/ws', { snapshots: 'yes' as never }), (err: unknown) => err instanceof InvalidArgumentError && /options\.snapshots/.test(err.message));
      assert.throws(() => reconnect('ws://127.0.0.1:1/ws', { onStatus: true as never }), (err: unknown) => err instanceof InvalidArgumentError && /options\.onStatus/.test(err.message));
    });
  });
});
