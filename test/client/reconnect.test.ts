import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import {
  ConnectError,
  ConnectionClosedError,
  ConnectionLostError,
  GaveUpError,
  InvalidArgumentError,
  ProtocolError,
  type JsonValue,
} from '../../src/client/index.js';
import { backoffDelay } from '../../src/client/reconnect.js';
import { onCleanup } from '../support/cleanup.js';
import { deadPort, errorSink, reconnectTo } from '../support/client-helpers.js';
import { startRawServer, type RawServerOptions } from '../support/raw-server.js';
import { deferred, waitFor, within } from '../support/wait.js';

const FAST = { initial: 20, max: 40, jitter: 0 };

/** A server whose connections get `state` as their first diff. */
function withState(state: JsonValue, options: RawServerOptions = {}): RawServerOptions {
  return { ...options, onConnection: (conn) => conn.sendState([{ op: 'replace', path: '', value: state }]) };
}

/** Upgrades that did not offer a subprotocol: one per attempt, whether or not the address was already known plain. */
function plainUpgrades(server: { upgrades: readonly { headers: Record<string, unknown> }[] }) {
  return server.upgrades.filter((req) => req.headers['sec-websocket-protocol'] === undefined);
}

function timeouts(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

/**
 * Waits until the timers started since `before` are gone: a client that
 * gave up holds none, so it cannot make another attempt later.
 */
function stoppedAfter(before: number): Promise<unknown> {
  return waitFor(() => timeouts() === before, 'no timer left behind', 2000);
}

describe('reconnect()', () => {
  describe('backoffDelay()', () => {
    it('doubles from initial up to max', () => {
      const b = { initial: 100, max: 1000, jitter: 0 };
      assert.deepEqual([0, 1, 2, 3, 4, 5, 60].map((round) => backoffDelay(b, round)), [100, 200, 400, 800, 1000, 1000, 1000]);
    });

    it('draws from [d × (1 − jitter), d]', () => {
      const b = { initial: 100, max: 1000, jitter: 0.5 };
      assert.equal(backoffDelay(b, 1, () => 0), 200);
      assert.equal(backoffDelay(b, 1, () => 0.999999), 200 * (1 - 0.5 * 0.999999));
      for (let i = 0; i < 100; i++) {
        const d = backoffDelay(b, 3);
        assert.ok(d > 400 && d <= 800, String(d));
      }
    });
  });

  it('connects, keeps state and serves send(); close() stops without callbacks', async () => {
    const server = await startRawServer(withState({ n: 1 }, { onRequest: (_c, r) => ({ success: true, data: r.data }) }));
    const events: string[] = [];
    const live = reconnectTo(server.url, {
      backoff: FAST,
      onConnected: (url) => events.push(`connected ${url}`),
      onDisconnected: (err) => events.push(`disconnected ${err.name}`),
    });
    assert.equal(live.status, 'open');
    assert.equal(live.connected, false);
    await waitFor(() => live.state !== null, 'state');
    assert.equal(live.connected, true);
    assert.equal(live.url, server.url);
    assert.deepEqual(live.state, { n: 1 });
    assert.equal(await live.send('echo', 5), 5);
    assert.deepEqual(events, [`connected ${server.url}`]);
    live.close();
    live.close();
    await live.closed;
    assert.equal(live.status, 'closed');
    assert.equal(live.error, null);
    assert.equal((await server.connections[0]!.closed).code, 1000);
    assert.deepEqual(events, [`connected ${server.url}`]);
    await assert.rejects(live.send('echo', 1), (err: unknown) => err instanceof ConnectionClosedError && err.closeCode === 1000);
    await assert.rejects(live.notify('x', 1), (err: unknown) => err instanceof ConnectionClosedError && err.closeCode === 1000);
    assert.throws(() => live.stream('x', 1), ConnectionClosedError);
  });

  it('comes back after a server restart on the same port, keeping the old state until the new one replaces it', async () => {
    const first = await startRawServer(withState({ server: 'first', items: [1, 2] }));
    const changes: JsonValue[] = [];
    const diffs: unknown[] = [];
    const events: string[] = [];
    const live = reconnectTo(first.url, {
      backoff: FAST,
      onConnected: () => events.push('connected'),
      onDisconnected: (err) => events.push(`disconnected ${(err as ConnectionClosedError).closeCode}`),
    });
    live.onChange((state, diff) => {
      changes.push(structuredClone(state));
      diffs.push(structuredClone(diff));
    });
    await waitFor(() => changes.length === 1, 'first state');
    await first.close(1001, 'restarting');
    const second = await startRawServer(withState({ server: 'second' }, { port: first.port }));
    await waitFor(() => changes.length === 2, 'state from the second server');
    assert.deepEqual(changes, [{ server: 'first', items: [1, 2] }, { server: 'second' }]);
    assert.deepEqual(diffs[1], [{ op: 'replace', path: '', value: { server: 'second' } }]);
    assert.deepEqual(events, ['connected', 'disconnected 1001', 'connected']);
    assert.equal(second.connections.length, 1);
    assert.deepEqual(live.state, { server: 'second' });
  });

  it('tries the addresses in turn: a dead first address is skipped', async () => {
    const port = await deadPort();
    const server = await startRawServer(withState('up'));
    const connected = deferred<string>();
    const live = reconnectTo([`ws://127.0.0.1:${port}/ws`, server.url], { backoff: FAST, onConnected: connected.resolve });
    assert.equal(await within(connected.promise, 2000, 'connection'), server.url);
    await waitFor(() => live.state === 'up', 'state');
  });

  it('waits the backoff between rounds, doubling up to max', async function () {
    this.timeout(10000);
    const port = await deadPort();
    const attempts: number[] = [];
    const live = reconnectTo(`ws://127.0.0.1:${port}/ws`, {
      backoff: { initial: 50, max: 200, jitter: 0 },
      // Called before every attempt: a clock for them.
      auth: () => {
        attempts.push(performance.now());
        return { username: 'u', password: 'p' };
      },
    });
    await waitFor(() => attempts.length >= 6, 'six attempts', 5000);
    live.close();
    const gaps = attempts.slice(1, 6).map((t, i) => t - attempts[i]!);
    const expected = [50, 100, 200, 200, 200];
    gaps.forEach((gap, i) => {
      assert.ok(gap >= expected[i]! - 5 && gap < expected[i]! + 150, `gap ${i}: ${gap.toFixed(1)} ms, expected about ${expected[i]}`);
    });
  });

  it('draws each delay within the jitter bounds', async function () {
    this.timeout(10000);
    const port = await deadPort();
    const attempts: number[] = [];
    const live = reconnectTo(`ws://127.0.0.1:${port}/ws`, {
      backoff: { initial: 100, max: 100, jitter: 0.8 },
      auth: () => {
        attempts.push(performance.now());
        return null;
      },
    });
    await waitFor(() => attempts.length >= 6, 'six attempts', 5000);
    live.close();
    for (let i = 1; i < 6; i++) {
      const gap = attempts[i]! - attempts[i - 1]!;
      assert.ok(gap >= 20 - 5 && gap < 100 + 150, `gap ${gap.toFixed(1)} ms outside [20, 100] ms`);
    }
  });

  it('gives up after the budget with a GaveUpError saying why', async () => {
    const port = await deadPort();
    const gaveUp = deferred<Error>();
    const started = Date.now();
    const live = reconnectTo(`ws://127.0.0.1:${port}/ws`, { backoff: { initial: 50, max: 100 }, budget: 300, onGiveUp: gaveUp.resolve });
    const err = await within(gaveUp.promise, 3000, 'giving up');
    const took = Date.now() - started;
    assert.ok(took >= 280 && took < 1500, `gave up after ${took} ms`);
    assert.ok(err instanceof GaveUpError);
    assert.match(err.message, /budget of 300 ms.*refused/);
    assert.ok(err.cause instanceof ConnectError && err.cause.kind === 'refused');
    await live.closed;
    assert.equal(live.status, 'closed');
    assert.equal(live.error, err);
    await assert.rejects(live.send('x', null), (e: unknown) => e instanceof ConnectionLostError && e.cause === err);
  });

  it('bounds an attempt by the budget too', async () => {
    // A server that accepts TCP and never answers the upgrade.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    onCleanup(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    });
    const gaveUp = deferred<Error>();
    const started = Date.now();
    reconnectTo(`ws://127.0.0.1:${(silent.address() as AddressInfo).port}/ws`, { budget: 200, onGiveUp: gaveUp.resolve });
    const err = await within(gaveUp.promise, 3000, 'giving up');
    assert.ok(Date.now() - started < 1500);
    assert.match(err.message, /budget of 200 ms/);
  });

  for (const [code, fatalCloseCodes] of [
    [1008, undefined],
    [4401, [1002, 4401]],
  ] as const) {
    it(`stops at once when the server closes with fatal code ${code}`, async () => {
      const server = await startRawServer({ onConnection: (conn) => conn.close(code, 'go away') });
      const before = timeouts();
      const gaveUp = deferred<Error>();
      const disconnected: Error[] = [];
      let attempts = 0;
      const live = reconnectTo(server.url, {
        backoff: FAST,
        fatalCloseCodes,
        onAttempt: () => (attempts += 1),
        onDisconnected: (err) => disconnected.push(err),
        onGiveUp: gaveUp.resolve,
      });
      const err = await within(gaveUp.promise, 2000, 'giving up');
      assert.ok(err instanceof GaveUpError);
      assert.match(err.message, new RegExp(`closed the connection with ${code} \\(go away\\), a fatal close code`));
      assert.ok(err.cause instanceof ConnectionClosedError && err.cause.closeCode === code);
      assert.equal(disconnected.length, 1);
      await live.closed;
      await stoppedAfter(before);
      assert.equal(attempts, 1);
      assert.equal(server.connections.length, 1);
      assert.equal(plainUpgrades(server).length, 1);
    });
  }

  it('retries after a close code that is not fatal', async () => {
    let n = 0;
    const server = await startRawServer({ onConnection: (conn) => (++n < 3 ? conn.close(4000, 'again') : conn.sendState([{ op: 'replace', path: '', value: n }])) });
    const live = reconnectTo(server.url, { backoff: FAST });
    await waitFor(() => live.state === 3, 'third connection');
    assert.equal(server.connections.length, 3);
  });

  it('stops when the server sends something invalid (the client closes with 1002)', async () => {
    const server = await startRawServer({ onConnection: (conn) => conn.sendState([{ op: 'remove', path: '/nothing' }]) });
    const before = timeouts();
    const gaveUp = deferred<Error>();
    let attempts = 0;
    const live = reconnectTo(server.url, { backoff: FAST, onAttempt: () => (attempts += 1), onGiveUp: gaveUp.resolve });
    const err = await within(gaveUp.promise, 2000, 'giving up');
    assert.ok(err.cause instanceof ProtocolError);
    assert.match(err.message, /invalid data.*1002/);
    assert.equal((await server.connections[0]!.closed).code, 1002);
    await live.closed;
    await stoppedAfter(before);
    assert.equal(attempts, 1);
    assert.equal(server.connections.length, 1);
    assert.equal(plainUpgrades(server).length, 1);
  });

  for (const status of [401, 403]) {
    it(`stops at once on HTTP ${status}`, async () => {
      const server = await startRawServer({ refuse: () => status });
      const before = timeouts();
      const gaveUp = deferred<Error>();
      let attempts = 0;
      const live = reconnectTo(server.url, {
        backoff: FAST,
        auth: { username: 'u', password: 'wrong' },
        onAttempt: () => (attempts += 1),
        onGiveUp: gaveUp.resolve,
      });
      const err = await within(gaveUp.promise, 2000, 'giving up');
      assert.match(err.message, new RegExp(`HTTP ${status}`));
      assert.ok(err.cause instanceof ConnectError && err.cause.status === status);
      await live.closed;
      await stoppedAfter(before);
      assert.equal(attempts, 1);
      assert.equal(server.upgrades.length, 1);
    });
  }

  it('retries other HTTP answers (404)', async () => {
    const server = await startRawServer({ refuse: () => 404 });
    reconnectTo(server.url, { backoff: FAST });
    await waitFor(() => server.upgrades.length >= 3, 'three attempts');
  });

  it('calls an auth function before every attempt', async () => {
    let calls = 0;
    const server = await startRawServer({ onConnection: (conn) => conn.close(4000, 'again') });
    reconnectTo(server.url, {
      backoff: FAST,
      auth: async () => {
        calls += 1;
        return { username: 'svc', password: `token-${calls}` };
      },
    });
    await waitFor(() => server.connections.length >= 3, 'three connections');
    // (An attempt's retry without the koa-juggler.v1 offer reuses its credentials.)
    const passwords = plainUpgrades(server)
      .slice(0, 3)
      .map((req) => Buffer.from(String(req.headers.authorization).slice(6), 'base64').toString());
    assert.deepEqual(passwords, ['svc:token-1', 'svc:token-2', 'svc:token-3']);
  });

  it('counts an auth function that throws as a failed attempt, and retries', async () => {
    let calls = 0;
    const server = await startRawServer(withState('in'));
    const live = reconnectTo(server.url, {
      backoff: FAST,
      auth: () => {
        calls += 1;
        if (calls === 1) throw new Error('token service down');
        return { username: 'u', password: 'p' };
      },
    });
    await waitFor(() => live.state === 'in', 'connection');
    assert.equal(calls, 2);
  });

  it('stops when an auth function returns something that is not credentials', async () => {
    const server = await startRawServer();
    const gaveUp = deferred<Error>();
    reconnectTo(server.url, { backoff: FAST, auth: () => ({ user: 'x' }) as never, onGiveUp: gaveUp.resolve });
    const err = await within(gaveUp.promise, 2000, 'giving up');
    assert.ok(err.cause instanceof InvalidArgumentError);
    assert.match(err.message, /options.auth\(\) returned/);
    assert.equal(server.upgrades.length, 0);
  });

  it('fails requests in flight with the connection error and does not re-send them', async () => {
    const server = await startRawServer(withState('s'));
    const live = reconnectTo(server.url, { backoff: FAST });
    await waitFor(() => live.connected, 'connection');
    const pending = live.send('work', { n: 1 });
    const conn = await server.nextConnection();
    await conn.nextMessage();
    conn.terminate();
    await assert.rejects(pending, ConnectionLostError);
    const next = await server.nextConnection();
    await waitFor(() => live.state === 's' && live.connected, 'reconnection');
    // Messages leave in order: once this one arrived, a re-sent request would have too.
    const after = live.send('', 'after');
    const first = await next.nextMessage();
    next.respond(first.id, true, first.data);
    await after;
    assert.deepEqual(next.messages.map((m) => m.data), ['after'], 'the lost request was not re-sent');
  });

  it('rejects send() at once while disconnected', async () => {
    const port = await deadPort();
    let attempts = 0;
    const live = reconnectTo(`ws://127.0.0.1:${port}/ws`, { backoff: FAST, onAttempt: () => (attempts += 1) });
    // A second attempt: the first one failed.
    await waitFor(() => attempts >= 2, 'a second attempt');
    // At once: settled before the event loop's next turn, so no attempt or timer could have come first.
    let settled = false;
    const sent = live.send('x', null);
    sent.catch(() => (settled = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(settled, true);
    await assert.rejects(sent, (err: unknown) => err instanceof ConnectionLostError && /not connected/.test(err.message));
  });

  it('forwards notifications from every connection', async () => {
    let n = 0;
    const server = await startRawServer({
      onConnection: (conn) => {
        conn.sendNotify('hello', ++n);
        if (n === 1) conn.close(4000, 'again');
      },
    });
    const got: JsonValue[] = [];
    reconnectTo(server.url, { backoff: FAST, onNotify: (_name, data) => got.push(data) });
    await waitFor(() => got.length === 2, 'two notifications');
    assert.deepEqual(got, [1, 2]);
  });

  it('reports callbacks that throw to onError and keeps going', async () => {
    const sink = errorSink();
    const server = await startRawServer(withState(1));
    const live = reconnectTo(server.url, {
      backoff: FAST,
      onError: sink.onError,
      onConnected: () => {
        throw new Error('onConnected bug');
      },
    });
    const stop = live.onChange(() => {
      throw new Error('listener bug');
    });
    await waitFor(() => live.state === 1, 'state');
    stop();
    assert.deepEqual(
      sink.errors.map((e) => (e as Error).message),
      ['onConnected bug', 'listener bug'],
    );
  });

  it('close() during the backoff wait leaves no timer behind', async () => {
    const port = await deadPort();
    const before = timeouts();
    const attempts: number[] = [];
    const live = reconnectTo(`ws://127.0.0.1:${port}/ws`, {
      backoff: { initial: 5000, max: 5000 },
      auth: () => {
        attempts.push(Date.now());
        return null;
      },
    });
    await waitFor(() => attempts.length === 1, 'first attempt');
    // The attempt holds its connect timers until it fails; then only the backoff's timer is left.
    await waitFor(() => timeouts() === before + 1, 'the attempt to fail and the backoff wait to start');
    live.close();
    await within(live.closed, 500, 'closed');
    assert.equal(timeouts(), before);
  });

  it('close() during an attempt aborts it', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    onCleanup(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    });
    const before = timeouts();
    const live = reconnectTo(`ws://127.0.0.1:${(silent.address() as AddressInfo).port}/ws`);
    await waitFor(() => sockets.length === 1, 'attempt');
    live.close();
    await within(live.closed, 500, 'closed');
    assert.equal(timeouts(), before);
  });

  it('supports Symbol.asyncDispose', async () => {
    const server = await startRawServer(withState(1));
    const live = reconnectTo(server.url);
    await waitFor(() => live.connected, 'connection');
    await live[Symbol.asyncDispose]();
    assert.equal(live.status, 'closed');
    assert.equal((await server.connections[0]!.closed).code, 1000);
  });
});
