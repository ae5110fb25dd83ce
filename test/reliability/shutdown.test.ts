/**
 * Shutdown under load: `server.close()` with hundreds of connections, some
 * with requests in flight and some with handlers that never settle,
 * finishes within shutdownTimeout plus a small margin, every client sees
 * 1001, and a process that does this exits by itself.
 */
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { RawClient } from '../support/raw-client.js';
import { ServerProcess } from '../support/server-process.js';
import { startServer } from '../support/server.js';
import { delay, waitFor, within } from '../support/wait.js';

const CLIENTS = 300;
const SHUTDOWN_TIMEOUT = 500;
// For timers and 300 sockets on a loaded two-core machine.
const MARGIN = 1500;

async function connectMany(url: string, n: number): Promise<RawClient[]> {
  const clients: RawClient[] = [];
  for (let i = 0; i < n; i += 50) clients.push(...(await Promise.all(Array.from({ length: Math.min(50, n - i) }, () => RawClient.connect(url)))));
  return clients;
}

/** A third of the clients with a slow request in flight, a third with one that never ends, a third idle. */
function load(clients: RawClient[]): void {
  clients.forEach((c, i) => {
    if (i % 3 === 0) c.request(1, 'sleep', 300);
    if (i % 3 === 1) c.request(1, 'hang');
  });
}

function handler(_conn: unknown, name: string, data: unknown): unknown {
  if (name === 'hang') return new Promise(() => {});
  if (name === 'sleep') return new Promise((resolve) => setTimeout(() => resolve(data), data as number));
  return data;
}

describe('shutdown under load', function () {
  this.timeout(60_000);

  it(`closes ${CLIENTS} connections with 1001 within shutdownTimeout, in-flight and hung handlers included`, async () => {
    const server = await startServer({ parallelRequests: true, shutdownTimeout: SHUTDOWN_TIMEOUT, onRequest: handler as never });
    const clients = await connectMany(server.url, CLIENTS);
    load(clients);
    await waitFor(() => [...server.connections].length === CLIENTS, 'every connection');
    await delay(50);
    const conns = [...server.connections];
    const started = Date.now();
    await within(server.close(), SHUTDOWN_TIMEOUT + MARGIN, 'server.close()');
    const took = Date.now() - started;
    assert.ok(took <= SHUTDOWN_TIMEOUT + MARGIN, `close took ${took} ms`);
    const closes = await Promise.all(clients.map((c) => c.waitClose(2000)));
    assert.deepEqual([...new Set(closes.map((c) => c.code))], [1001]);
    await within(Promise.all(conns.map((c) => c.closed)), 1000, 'every conn.closed');
    assert.equal([...server.connections].length, 0);
    // Requests cut by the shutdown (the slow ones needed 300 ms) are not answered after the close frame.
    assert.ok(clients.every((c) => c.messages.every((m) => m.type !== 'response')));
  });

  it('destroys the connections that do not finish closing in time, and still ends within shutdownTimeout', async () => {
    const server = await startServer({ parallelRequests: true, shutdownTimeout: SHUTDOWN_TIMEOUT, onRequest: handler as never });
    const clients = await connectMany(server.url, 100);
    load(clients);
    // Twenty of them stop reading: they will never answer the close frame.
    const deaf = clients.slice(0, 20);
    for (const c of deaf) (c.ws as unknown as { _socket: Socket })._socket.pause();
    await waitFor(() => [...server.connections].length === 100, 'every connection');
    const started = Date.now();
    await within(server.close(), SHUTDOWN_TIMEOUT + MARGIN, 'server.close()');
    const took = Date.now() - started;
    assert.ok(took >= SHUTDOWN_TIMEOUT - 20, `close took ${took} ms: it did wait for the deaf ones`);
    assert.ok(took <= SHUTDOWN_TIMEOUT + MARGIN, `close took ${took} ms`);
    const closes = await Promise.all(clients.slice(20).map((c) => c.waitClose(2000)));
    assert.deepEqual([...new Set(closes.map((c) => c.code))], [1001]);
    for (const c of deaf) (c.ws as unknown as { _socket: Socket })._socket.resume();
    // A deaf client finds the 1001 close frame in its buffer, or just the cut connection.
    for (const c of deaf) assert.ok([1001, 1006].includes((await c.waitClose(2000)).code));
  });

  it(`lets a process exit by itself after closing ${CLIENTS} busy connections`, async () => {
    const server = await ServerProcess.start({ options: { parallelRequests: true, shutdownTimeout: SHUTDOWN_TIMEOUT } });
    const clients = await connectMany(server.url, CLIENTS);
    clients.forEach((c, i) => {
      if (i % 3 === 0) c.request(1, 'sleep', 300);
      if (i % 3 === 1) c.request(1, 'hang');
      if (i % 3 === 2) c.request(1, 'gated');
    });
    await waitFor(async () => (await server.connections()) === CLIENTS, 'every connection');
    const started = Date.now();
    const result = await server.command<{ ms: number; connections: number }>('close', undefined, SHUTDOWN_TIMEOUT + MARGIN + 2000);
    assert.ok(result.ms <= SHUTDOWN_TIMEOUT + MARGIN, `close took ${result.ms} ms`);
    assert.equal(result.connections, 0);
    // Nothing left behind: no timer, no socket, no pending handler keeps it alive.
    const code = await within(server.exited, 5000, 'the server process to exit by itself');
    assert.equal(code, 0);
    assert.ok(Date.now() - started < SHUTDOWN_TIMEOUT + MARGIN + 5000);
    const closes = await Promise.all(clients.map((c) => c.waitClose(2000)));
    assert.deepEqual([...new Set(closes.map((c) => c.code))], [1001]);
  });
});
