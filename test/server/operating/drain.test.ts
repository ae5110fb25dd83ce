/**
 * `server.drain()`: refuses new connections (503 on the upgrade and on
 * /readyz), closes the open ones with 1012 spread over the timeout, then
 * resolves; a reconnect() client moves to the next address at once.
 */
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { InvalidArgumentError } from '../../../src/index.js';
import { reconnectTo } from '../../support/client-helpers.js';
import { onCleanup } from '../../support/cleanup.js';
import { startServer } from '../../support/server.js';
import { waitFor, within } from '../../support/wait.js';

function openSockets(url: string, n: number): Promise<{ ws: WebSocket; closed: Promise<{ code: number; at: number }> }[]> {
  return Promise.all(
    Array.from({ length: n }, () => {
      const ws = new WebSocket(url);
      onCleanup(() => ws.terminate());
      const closed = new Promise<{ code: number; at: number }>((resolve) => ws.on('close', (code) => resolve({ code, at: Date.now() })));
      return new Promise<{ ws: WebSocket; closed: typeof closed }>((resolve, reject) => {
        ws.once('open', () => resolve({ ws, closed }));
        ws.once('error', reject);
      });
    }),
  );
}

describe('server.drain()', () => {
  it('closes hundreds of connections with 1012, spread evenly over the timeout, and refuses new ones meanwhile', async function () {
    this.timeout(30000);
    const server = await startServer({ health: true, maxConnections: 1000 });
    const n = 300;
    const timeout = 2000;
    const sockets = await openSockets(server.url, n);
    await waitFor(() => [...server.connections].length === n, `${n} connections`);

    const started = Date.now();
    const drained = server.drain({ timeout });
    assert.equal(server.drain(), drained, 'a second call returns the same promise');
    const ready = await fetch(`http://127.0.0.1:${server.port}/readyz`);
    assert.equal(ready.status, 503);
    assert.deepEqual(await ready.json(), { ready: false, draining: true });
    await assert.rejects(openSockets(server.url, 1), /503/);

    await within(drained, timeout + 5000, 'drain');
    const closes = await Promise.all(sockets.map((s) => s.closed));
    assert.ok(closes.every((c) => c.code === 1012), 'every connection closed with 1012');
    const offsets = closes.map((c) => c.at - started).sort((a, b) => a - b);
    // Spread, not a herd: about half are closed by half time, and the last near the end.
    const byHalf = offsets.filter((t) => t < timeout / 2).length;
    assert.ok(byHalf > n * 0.3 && byHalf < n * 0.7, `${byHalf} of ${n} closed in the first half`);
    const inFirstTenth = offsets.filter((t) => t < timeout / 10).length;
    assert.ok(inFirstTenth < n * 0.25, `${inFirstTenth} of ${n} closed in the first tenth`);
    assert.ok(offsets[n - 1]! >= timeout * 0.8, `the last closed at ${offsets[n - 1]} ms`);
    await server.close();
  });

  it('with no connections resolves at once; close() after it', async () => {
    const server = await startServer();
    await within(server.drain({ timeout: 60000 }), 1000, 'an empty drain');
    await server.close();
  });

  it('close() during a drain closes the rest with 1001 and ends the drain', async () => {
    const server = await startServer();
    const sockets = await openSockets(server.url, 10);
    const drained = server.drain({ timeout: 60000 });
    await server.close();
    await within(drained, 2000, 'the drain after close()');
    const codes = await Promise.all(sockets.map((s) => s.closed.then((c) => c.code)));
    assert.ok(codes.includes(1001), `codes ${codes}`);
    assert.ok(codes.every((c) => c === 1001 || c === 1012));
  });

  it('rejects a bad timeout naming it', async () => {
    const server = await startServer();
    assert.throws(() => server.drain({ timeout: -1 }), (err: unknown) => err instanceof InvalidArgumentError && /options\.timeout/.test(err.message));
    assert.throws(() => server.drain('soon' as never), InvalidArgumentError);
  });

  it('sends a reconnect() client to the next address at once, not after the backoff', async function () {
    this.timeout(15000);
    const a = await startServer();
    const b = await startServer();
    const connected: { url: string; at: number }[] = [];
    reconnectTo([a.url, b.url], {
      backoff: { initial: 3000, max: 30000, jitter: 0.1 },
      onConnected: (url) => connected.push({ url, at: Date.now() }),
    });
    await waitFor(() => connected.length === 1, 'the first connection');
    assert.equal(connected[0]!.url, a.url);
    const started = Date.now();
    await a.drain({ timeout: 0 });
    await waitFor(() => connected.length === 2, 'the move to b', 5000);
    assert.equal(connected[1]!.url, b.url);
    // The backoff would be 2700-3000 ms; going elsewhere waits at most 300.
    assert.ok(connected[1]!.at - started < 1500, `moved after ${connected[1]!.at - started} ms`);
  });
});
