/**
 * The limits a user can set, at work: `maxConnections` refuses the
 * upgrade with 503 (upgrades still being authenticated count too), and
 * `maxRequestsInFlight` caps concurrent handlers with `parallelRequests`:
 * the rest wait, none is dropped, and a client that pipelines without end
 * is met with TCP backpressure while the server's memory stays flat.
 */
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { RawClient } from '../support/raw-client.js';
import { MB, retained, ServerProcess } from '../support/server-process.js';
import { startServer } from '../support/server.js';
import { deferred, delay, waitFor, within } from '../support/wait.js';

const connectionCount = (server: { connections: Iterable<unknown> }) => [...server.connections].length;

/** Tries to connect; resolves with 'open' or the HTTP status of the refusal. */
async function attempt(url: string, headers?: Record<string, string>): Promise<'open' | number> {
  try {
    await RawClient.connect(url, { headers });
    return 'open';
  } catch (err) {
    return (err as { status?: number }).status ?? -1;
  }
}

describe('limits', function () {
  this.timeout(60_000);

  describe('maxConnections', () => {
    it('refuses the upgrade beyond it with 503, before upgrading, and admits again once one leaves', async () => {
      const server = await startServer({ maxConnections: 3 });
      const clients = await Promise.all([1, 2, 3].map(() => RawClient.connect(server.url)));
      await assert.rejects(RawClient.connect(server.url), (err: { status?: number }) => err.status === 503);
      // The refusal is an HTTP answer: no WebSocket was opened, not even briefly.
      assert.equal(connectionCount(server), 3);
      clients[0]!.close();
      await waitFor(() => connectionCount(server) === 2, 'a connection to leave');
      assert.equal(await attempt(server.url), 'open');
      assert.equal(await attempt(server.url), 503);
    });

    it('counts upgrades still being authenticated: a burst gets exactly maxConnections in', async () => {
      const server = await startServer({
        maxConnections: 5,
        authenticate: async (req) => {
          await delay(50);
          return req.headers['x-user'] === 'ok' ? 'ok' : null;
        },
      });
      const results = await Promise.all(Array.from({ length: 30 }, () => attempt(server.url, { 'x-user': 'ok' })));
      assert.equal(results.filter((r) => r === 'open').length, 5, results.join());
      assert.equal(results.filter((r) => r === 503).length, 25);
      assert.equal(connectionCount(server), 5);
    });

    it('counts only open connections: a refused or closed one frees its place', async () => {
      const server = await startServer({ maxConnections: 2 });
      for (let i = 0; i < 20; i++) {
        const c = await RawClient.connect(server.url);
        c.close();
        await c.waitClose();
        await waitFor(() => connectionCount(server) === 0, 'the connection to leave');
      }
      assert.equal(await attempt(server.url), 'open');
      assert.equal(await attempt(server.url), 'open');
      assert.equal(await attempt(server.url), 503);
    });
  });

  describe('sendQueueSize', () => {
    it('meets a client that sends requests but never reads the answers with backpressure: the server stops reading it', async () => {
      const server = await ServerProcess.start({ options: { sendQueueSize: 64 } });
      const ws = new WebSocket(server.url);
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      // The client reads nothing from now on; the server answers every request at once (echo).
      (ws as unknown as { _socket: { pause(): void } })._socket.pause();
      const before = retained(await server.heap());
      const padding = 'p'.repeat(1000);
      let sent = 0;
      let stalledFor = 0;
      while (sent < 100_000 && stalledFor < 500) {
        if (ws.bufferedAmount > 8 * MB) {
          await delay(50);
          stalledFor += 50;
          continue;
        }
        stalledFor = 0;
        for (let i = 0; i < 500; i++, sent++) ws.send('0' + JSON.stringify({ type: 'request', id: sent, name: 'echo', data: padding }));
        await new Promise((resolve) => setImmediate(resolve));
      }
      const holding = retained(await server.heap()) - before;
      assert.ok(stalledFor >= 500, `the server kept reading: ${sent} requests (${((sent * 1060) / MB).toFixed(0)} MB) sent`);
      assert.ok(holding < 8 * MB, `the server held ${(holding / MB).toFixed(1)} MB of unread answers`);
      // Once the client reads again, everything is answered, exactly once.
      const answered = new Map<number, number>();
      ws.on('message', (data) => {
        const message = JSON.parse(data.toString().slice(1));
        answered.set(message.id, (answered.get(message.id) ?? 0) + 1);
      });
      (ws as unknown as { _socket: { resume(): void } })._socket.resume();
      await waitFor(() => answered.size === sent, `all ${sent} answers`, 40_000, 20);
      assert.ok([...answered.values()].every((n) => n === 1));
      ws.terminate();
    });
  });

  describe('maxRequestsInFlight with parallelRequests', () => {
    it('runs at most that many handlers at once; the others wait and every one is answered once', async () => {
      let running = 0;
      let peak = 0;
      const gate = deferred();
      const server = await startServer({
        parallelRequests: true,
        maxRequestsInFlight: 16,
        async onRequest(_conn, _name, data) {
          running += 1;
          peak = Math.max(peak, running);
          await gate.promise;
          await delay(Math.random() * 3);
          running -= 1;
          return data;
        },
      });
      const client = await RawClient.connect(server.url);
      const N = 1000;
      for (let i = 0; i < N; i++) client.request(i, 'work', i);
      await waitFor(() => running === 16, '16 handlers to be running');
      await delay(50);
      assert.equal(peak, 16, 'no more than maxRequestsInFlight at once');
      gate.resolve();
      await waitFor(() => client.messages.filter((m) => m.type === 'response').length === N, 'all responses', 20_000);
      const ids = client.messages.filter((m) => m.type === 'response').map((m) => m.id).sort((a, b) => a - b);
      assert.deepEqual(ids, [...Array(N).keys()], 'each request answered exactly once');
      assert.ok(client.messages.every((m) => m.type !== 'response' || m.data === m.id));
      assert.equal(peak, 16);
    });

    it('meets a client that pipelines without end with TCP backpressure: the server stops reading, its memory stays flat, nothing is dropped', async () => {
      const server = await ServerProcess.start({ options: { parallelRequests: true, maxRequestsInFlight: 8 } });
      const ws = new WebSocket(server.url);
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      const responses = new Map<number, number>();
      ws.on('message', (data) => {
        const message = JSON.parse(data.toString().slice(1));
        if (message.type === 'response') responses.set(message.id, (responses.get(message.id) ?? 0) + 1);
      });
      const before = retained(await server.heap());
      const padding = 'p'.repeat(1000);
      let sent = 0;
      let stalledFor = 0;
      // Write while the socket takes it; stop once writes have piled up unsent for 500 ms (or at 200 MB).
      while (sent < 200_000 && stalledFor < 500) {
        if (ws.bufferedAmount > 8 * MB) {
          await delay(50);
          stalledFor += 50;
          continue;
        }
        stalledFor = 0;
        for (let i = 0; i < 500; i++, sent++) ws.send('0' + JSON.stringify({ type: 'request', id: sent, name: 'gated', data: padding }));
        await new Promise((resolve) => setImmediate(resolve));
      }
      const delivered = sent * 1060 - ws.bufferedAmount;
      assert.ok(stalledFor >= 500, `the server kept reading: ${sent} requests sent`);
      const holding = retained(await server.heap()) - before;
      assert.ok(
        holding < 8 * MB,
        `${(delivered / MB).toFixed(0)} MB reached the socket, the server held ${(holding / MB).toFixed(1)} MB while its handlers were blocked`,
      );
      assert.equal(responses.size, 0);
      await server.command('open-gate');
      await waitFor(() => responses.size === sent, `all ${sent} responses`, 40_000, 20);
      assert.ok([...responses.values()].every((n) => n === 1), 'each answered exactly once');
      ws.close();
      await within(new Promise((resolve) => ws.once('close', resolve)), 5000, 'the close');
    });
  });
});
