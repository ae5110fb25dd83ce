/**
 * Sessions, resume by version and idempotent retry from the client's side:
 * reconnect() coming back through a TCP proxy that cuts the link (a blip)
 * or refuses connections for a while (an outage), and connect() resuming
 * explicitly.
 */
import assert from 'node:assert/strict';
import {
  connect,
  ConnectionLostError,
  JugglerError,
  TimeoutError,
  type JsonValue,
  type Patch,
} from '../../src/client/index.js';
import { JugglerError as ServerJugglerError, Storage, type Connection, type ListenOptions } from '../../src/index.js';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js';
import { startProxy } from '../support/tcp-proxy.js';
import { connectTo, reconnectTo } from '../support/client-helpers.js';
import { startServer } from '../support/server.js';
import { deferred, waitFor, within } from '../support/wait.js';

const FAST = { initial: 10, max: 20, jitter: 0 };

/** Sessions the server holds, read from its metrics (`metrics: true`): 0 once an expired one is swept. */
async function sessionsHeld(server: { metrics: { metrics(): Promise<string> } | null }): Promise<number | undefined> {
  return sampleValue(parsePrometheusText(await server.metrics!.metrics()), 'juggler_sessions');
}

/** A server with a per-session state (no shared one) of about `size` bytes, behind a proxy. */
async function sessionServer(size = 100_000, options: ListenOptions = {}) {
  const storages = new Map<string, Storage>();
  const sessions: (string | null)[] = [];
  const server = await startServer({
    autoflushDelay: 0,
    onConnection(conn: Connection) {
      sessions.push(conn.session);
      storages.set(conn.session!, conn.state);
      if (conn.state.data === null) conn.state.set([], { rows: Array.from({ length: size / 100 }, (_, i) => 'r'.repeat(90) + i), count: 0 });
    },
    onRequest(conn, name) {
      if (name === 'count') conn.state.set('count', (conn.state.get('count') as number) + 1);
      return conn.state.get('count');
    },
    ...options,
  });
  const proxy = await startProxy(server.port);
  return { server, proxy, storages, sessions };
}

/** The diffs a reconnecting client applies, and its onChange states. */
function record(live: { onChange(cb: (state: JsonValue, diff: Patch) => void): () => void }) {
  const diffs: Patch[] = [];
  const states: JsonValue[] = [];
  live.onChange((state, diff) => {
    diffs.push(structuredClone(diff));
    states.push(structuredClone(state));
  });
  return { diffs, states };
}

describe('koa-juggler.v1 sessions and resume (client)', () => {
  describe('reconnect()', () => {
    it('comes back after a drop with its session and its state resumed by one small diff', async () => {
      const { proxy, storages, sessions } = await sessionServer();
      const live = reconnectTo(proxy.url(), { backoff: FAST });
      const { diffs, states } = record(live);
      await waitFor(() => live.version !== null, 'the first state');
      assert.equal(await live.send('count', null), 1);
      await waitFor(() => (live.state as { count: number }).count === 1, 'count 1');
      const whole = JSON.stringify(live.state).length;
      const session = live.session!;
      const before = diffs.length;

      proxy.cut();
      await waitFor(() => !live.connected, 'the drop');
      // While it is away, its session's state changes.
      storages.get(sessions[0]!)!.set('count', 41);
      await waitFor(() => live.connected && (live.state as { count: number }).count === 41, 'the resumed state', 5000);

      assert.equal(live.resumed, true);
      assert.equal(sessions.length, 2);
      assert.equal(sessions[1], sessions[0], 'the same session on the server');
      assert.equal(live.session!.split('.')[0], session.split('.')[0]);
      assert.deepEqual(diffs.slice(before), [[{ op: 'replace', path: '/count', value: 41 }]], 'one diff, no reset to null');
      assert.ok(!states.slice(before).includes(null));
      assert.deepEqual(live.state, storages.get(sessions[0]!)!.data);
      // The second connection carried a fraction of the whole value (all of it so far: the echo's answer came last).
      await live.send('', null);
      const [, second] = proxy.connections;
      assert.ok(second!.toClient < whole / 10, `resume took ${second!.toClient} bytes for a ${whole}-byte state`);
      assert.ok(proxy.connections[0]!.toClient > whole, 'the first connection carried the whole value');
      assert.equal(await live.send('count', null), 42, 'the per-connection state survived');
    });

    it('keeps its state when it is current: no state message at all', async () => {
      const { proxy } = await sessionServer(10_000);
      const live = reconnectTo(proxy.url(), { backoff: FAST });
      const { diffs } = record(live);
      // (A new session's state is null when it joins, then onConnection fills it: two state messages.)
      await waitFor(() => live.state !== null, 'the first state');
      // Messages to one connection leave in order: a further state message would arrive before the echo's answer.
      await live.send('', null);
      const version = live.version;
      const state = live.state;
      const before = diffs.length;
      proxy.cut();
      await waitFor(() => !live.connected, 'the drop');
      await waitFor(() => live.connected, 'the reconnection');
      // A resume diff leaves right after welcome, before the echo's response (docs/protocol.md, "Order").
      await live.send('', null);
      assert.equal(diffs.length, before);
      assert.equal(live.state, state, 'the very same object');
      assert.equal(live.version, version);
      // The HTTP upgrade answer and welcome: no state.
      assert.ok(proxy.connections[1]!.toClient < 600, `${proxy.connections[1]!.toClient} bytes`);
    });

    it('starts over at null when the session is gone (expired while away): resumed false, then the whole value', async () => {
      const { server, proxy } = await sessionServer(10_000, { sessionTimeout: 50, metrics: true });
      const live = reconnectTo(proxy.url(), { backoff: FAST });
      const { states } = record(live);
      await waitFor(() => live.version !== null, 'the first state');
      await live.send('count', null);
      await waitFor(() => (live.state as { count: number }).count === 1, 'count 1');
      proxy.block(true);
      proxy.cut();
      await waitFor(() => !live.connected, 'the drop');
      await waitFor(async () => (await sessionsHeld(server)) === 0, 'the session to expire');
      proxy.block(false);
      await waitFor(() => live.connected && states.length >= 4, 'the fresh state');
      assert.equal(live.resumed, false);
      assert.deepEqual(
        states.slice(-2).map((s) => (s === null ? null : (s as { count: number }).count)),
        [null, 0],
        'reset to null, then the new session\'s whole value',
      );
    });

    it('re-sends a keyed request cut by a blip once resumed: the handler runs once, the caller gets its result', async () => {
      let runs = 0;
      const started = deferred();
      const finish = deferred<string>();
      const server = await startServer({
        parallelRequests: true,
        async onRequest(_conn, name) {
          if (name !== 'pay') return null;
          runs += 1;
          started.resolve();
          return finish.promise;
        },
      });
      const proxy = await startProxy(server.port);
      const live = reconnectTo(proxy.url(), { backoff: FAST });
      await waitFor(() => live.connected, 'the connection');
      const paid = live.send('pay', { order: 7 });
      await within(started.promise, 2000, 'the handler to start');
      proxy.cut();
      await waitFor(() => !live.connected, 'the drop');
      await waitFor(() => live.connected, 'the reconnection');
      assert.equal(live.resumed, true);
      finish.resolve('receipt-7');
      assert.equal(await within(paid, 3000, 'the result'), 'receipt-7');
      assert.equal(runs, 1, 'the handler ran once');
    });

    it('re-sends a keyed request whose answer the blip lost, and gets the recorded result without a second run', async () => {
      let runs = 0;
      let finished = 0;
      const release = deferred();
      const server = await startServer({
        async onRequest(_conn, name, data) {
          runs += 1;
          if (name === 'refuse') throw new ServerJugglerError({ refused: data });
          await release.promise;
          finished += 1;
          return `done ${runs}`;
        },
      });
      const proxy = await startProxy(server.port);
      const live = reconnectTo(proxy.url(), { backoff: FAST });
      await waitFor(() => live.connected, 'the connection');
      const done = live.send('work', null, { key: 'work-1' });
      await waitFor(() => runs === 1, 'the handler');
      // Cut before the answer and stay away until the handler has finished: the repeat is answered from the record.
      proxy.block(true);
      proxy.cut();
      await waitFor(() => !live.connected, 'the drop');
      release.resolve();
      await waitFor(() => finished === 1, 'the handler to finish');
      proxy.block(false);
      assert.equal(await within(done, 3000, 'the result'), 'done 1');
      assert.equal(runs, 1);
      // Failures are recorded too.
      await assert.rejects(live.send('refuse', 5, { key: 'r' }), JugglerError);
      await assert.rejects(live.send('refuse', 6, { key: 'r' }), (err: unknown) => err instanceof JugglerError && (err.data as { refused: number }).refused === 5);
      assert.equal(runs, 2);
    });

    it('fails requests without a key with the connection error, and does not re-send them', async () => {
      let runs = 0;
      const server = await startServer({
        parallelRequests: true,
        onRequest: () => {
          runs += 1;
          return new Promise(() => {});
        },
      });
      const proxy = await startProxy(server.port);
      const live = reconnectTo(proxy.url(), { backoff: FAST });
      const unkeyed = reconnectTo(proxy.url(), { backoff: FAST, autoKey: false });
      await waitFor(() => live.connected && unkeyed.connected, 'the connections');
      const explicit = live.send('slow', null, { key: null });
      const byOption = unkeyed.send('slow', null);
      await waitFor(() => runs === 2, 'the handlers');
      proxy.cut();
      await Promise.all([assert.rejects(explicit, ConnectionLostError), assert.rejects(byOption, ConnectionLostError)]);
      await waitFor(() => live.connected && unkeyed.connected, 'the reconnections');
      // A re-sent request would reach the server before the echo.
      await Promise.all([live.send('', null), unkeyed.send('', null)]);
      assert.equal(runs, 2);
    });

    it('fails keyed requests with the connection error when the session was not resumed', async () => {
      let runs = 0;
      const server = await startServer({
        sessionTimeout: 50,
        metrics: true,
        onRequest: () => {
          runs += 1;
          return new Promise(() => {});
        },
      });
      const proxy = await startProxy(server.port);
      const live = reconnectTo(proxy.url(), { backoff: FAST });
      await waitFor(() => live.connected, 'the connection');
      const pending = live.send('slow', null);
      await waitFor(() => runs === 1, 'the handler');
      let settled = false;
      pending.then(
        () => (settled = true),
        () => (settled = true),
      );
      proxy.block(true);
      proxy.cut();
      await waitFor(() => !live.connected, 'the drop');
      await waitFor(async () => (await sessionsHeld(server)) === 0, 'the session to expire');
      assert.equal(settled, false, 'parked while disconnected');
      proxy.block(false);
      await assert.rejects(pending, ConnectionLostError);
      assert.equal(live.resumed, false);
      assert.equal(runs, 1);
    });

    it('counts a timeout across reconnects and sends nothing on expiry', async () => {
      const requests: string[] = [];
      const server = await startServer({
        onRequest: (_conn, name) => {
          requests.push(name);
          return new Promise(() => {});
        },
      });
      const proxy = await startProxy(server.port);
      const live = reconnectTo(proxy.url(), { backoff: FAST });
      await waitFor(() => live.connected, 'the connection');
      const started = Date.now();
      const pending = live.send('slow', null, { timeout: 300 });
      await waitFor(() => requests.length === 1, 'the request');
      proxy.block(true);
      proxy.cut();
      await assert.rejects(pending, (err: unknown) => err instanceof TimeoutError && /slow.*300 ms/.test(err.message));
      const took = Date.now() - started;
      assert.ok(took >= 290 && took < 1000, `timed out after ${took} ms`);
      proxy.block(false);
      await waitFor(() => live.connected, 'the reconnection');
      // A re-sent request would reach the server before the echo (and, never settling, hold it up).
      await live.send('', null, { timeout: 2000 });
      assert.deepEqual(requests, ['slow'], 'not re-sent after it timed out');
    });

    it('calls onAttempt before each attempt, counting from 1 again after each connection', async () => {
      const { proxy } = await sessionServer(1000);
      const attempts: [number, string][] = [];
      const live = reconnectTo(proxy.url(), { backoff: FAST, onAttempt: (n, url) => attempts.push([n, url]) });
      await waitFor(() => live.connected, 'the connection');
      assert.deepEqual(attempts, [[1, proxy.url()]]);
      proxy.block(true);
      proxy.cut();
      await waitFor(() => attempts.length >= 4, 'three more attempts');
      proxy.block(false);
      await waitFor(() => live.connected, 'the reconnection');
      const counts = attempts.map(([n]) => n);
      assert.deepEqual(counts.slice(0, 4), [1, 1, 2, 3]);
      proxy.cut();
      await waitFor(() => !live.connected, 'the second drop');
      await waitFor(() => live.connected, 'the second reconnection');
      assert.equal(attempts.at(-1)![0], 1, 'counted from 1 since the last connection');
    });
  });

  describe('connect() with session and version', () => {
    it('resumes explicitly: same session, the state brought up to date by one diff', async () => {
      const { server, storages, sessions } = await sessionServer(50_000);
      const first = await connectTo(server.url);
      await waitFor(() => first.version !== null, 'the first state');
      const saved = { session: first.session!, version: first.version!, state: structuredClone(first.state) };
      first.close();
      await first.closed;
      storages.get(sessions[0]!)!.set('count', 5);

      const diffs: Patch[] = [];
      const again = await connectTo(server.url, saved);
      again.onChange((_state, diff) => diffs.push(diff));
      assert.equal(again.resumed, true);
      assert.equal(sessions[1], sessions[0]);
      await waitFor(() => diffs.length === 1, 'the diff');
      assert.deepEqual(diffs[0], [{ op: 'replace', path: '/count', value: 5 }]);
      assert.deepEqual(again.state, storages.get(sessions[0]!)!.data);
      assert.notEqual(again.version, saved.version);
    });

    it('starts a new session for a forged token: resumed false, and the whole value of the new session', async () => {
      const { server, storages, sessions } = await sessionServer(1000);
      const first = await connectTo(server.url);
      await waitFor(() => first.version !== null, 'the first state');
      storages.get(sessions[0]!)!.set('count', 9);
      await waitFor(() => (first.state as { count: number }).count === 9, 'count 9');
      const [id, expiry, mac] = first.session!.split('.');
      const forged = `${id}.${expiry}.${mac!.startsWith('A') ? 'B' : 'A'}${mac!.slice(1)}`;
      const diffs: Patch[] = [];
      const again = await connect(server.url, { session: forged, version: first.version, state: structuredClone(first.state) });
      try {
        again.onChange((_state, diff) => diffs.push(diff));
        assert.equal(again.resumed, false);
        assert.notEqual(sessions[1], sessions[0]);
        await waitFor(() => (again.state as { count?: number } | null)?.count === 0, 'the new session\'s own state');
        // Its first state message is the whole value of the new session (null until onConnection fills it), not a diff from the old version.
        assert.deepEqual(diffs[0], [{ op: 'replace', path: '', value: null }]);
      } finally {
        again.close();
      }
    });
  });
});
