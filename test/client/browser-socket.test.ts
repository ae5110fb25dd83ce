// The browser adapter, driven by `ws`'s WebSocket standing in for the DOM's
// (same event-handler API, text frames as strings). The real browser runs
// in the Chromium tests.
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { ConnectError, ConnectionLostError, InvalidArgumentError, ProtocolError, type Client } from '../../src/client/index.js';
import { connectWith, type Platform } from '../../src/client/connect.js';
import { browserSocketOpener, type WebSocketConstructor } from '../../src/client/socket.js';
import { onCleanup } from '../support/cleanup.js';
import { deadPort } from '../support/client-helpers.js';
import { startRawServer } from '../support/raw-server.js';
import { waitFor } from '../support/wait.js';

function browser(port: number): Platform {
  return {
    name: 'browser',
    openSocket: browserSocketOpener(WebSocket as unknown as WebSocketConstructor),
    baseUrl: `http://127.0.0.1:${port}/dashboard/index.html`,
  };
}

async function open(port: number, url = '/ws', options = {}): Promise<Client> {
  const client = await connectWith(browser(port), url, options);
  onCleanup(async () => {
    client.close();
    await client.closed;
  });
  return client;
}

describe('browser socket adapter', () => {
  it('connects to an address relative to the page and speaks juggler', async () => {
    const server = await startRawServer({ onRequest: (_c, r) => ({ success: true, data: r.data }) });
    const notes: unknown[] = [];
    const client = await open(server.port, '/ws', { onNotify: (name: string) => notes.push(name) });
    assert.equal(client.url, `ws://127.0.0.1:${server.port}/ws`);
    const conn = await server.nextConnection();
    assert.equal(await client.send('echo', '😀'.repeat(3)), '😀😀😀');
    conn.sendMessage({ type: 'state', diff: [{ op: 'replace', path: '', value: { a: '😀'.repeat(20) } }] }, 9);
    conn.sendNotify('n', null);
    await waitFor(() => client.state !== null && notes.length === 1, 'state and notification');
    assert.deepEqual(client.state, { a: '😀'.repeat(20) });
    conn.send('2ping');
    await waitFor(() => conn.frames.includes('3ping'), 'pong');
  });

  it('rejects with kind "network" whatever the cause, as a browser cannot tell', async () => {
    const port = await deadPort();
    await assert.rejects(connectWith(browser(port), '/ws'), (err: unknown) => err instanceof ConnectError && err.kind === 'network' && err.status === null);
    const server = await startRawServer({ refuse: () => 401 });
    await assert.rejects(connectWith(browser(server.port), '/ws'), (err: unknown) => err instanceof ConnectError && err.kind === 'network');
  });

  it('rejects with kind "aborted" on the signal', async () => {
    const server = await startRawServer();
    await assert.rejects(
      connectWith(browser(server.port), '/ws', { signal: AbortSignal.abort() }),
      (err: unknown) => err instanceof ConnectError && err.kind === 'aborted',
    );
  });

  it('refuses Node-only options', async () => {
    await assert.rejects(connectWith(browser(1), '/ws', { auth: { username: 'a', password: 'b' } }), InvalidArgumentError);
  });

  it('sends a protocol-error close as 1000 with the code in the reason (a page may not send 1002)', async () => {
    const server = await startRawServer();
    const client = await open(server.port);
    const conn = await server.nextConnection();
    const pending = client.send('x', null);
    await conn.nextMessage();
    conn.send('0{bad json');
    await assert.rejects(pending, (err: unknown) => err instanceof ProtocolError && err.closeCode === 1002);
    const closed = await conn.closed;
    assert.equal(closed.code, 1000);
    assert.match(closed.reason, /^\(1002\) invalid JSON/);
  });

  it('passes application close codes through', async () => {
    const server = await startRawServer();
    const client = await open(server.port);
    const conn = await server.nextConnection();
    client.close(4005, 'done');
    assert.deepEqual(await conn.closed, { code: 4005, reason: 'done' });
  });

  it('counts maxMessageSize in UTF-16 units, and closes on more', async () => {
    const server = await startRawServer();
    const client = await open(server.port, '/ws', { maxMessageSize: 100 });
    const conn = await server.nextConnection();
    conn.sendMessage({ type: 'notify', name: 'n', data: 'x'.repeat(200) }, 50);
    await client.closed;
    assert.ok(client.error instanceof ProtocolError && client.error.closeCode === 1009);
    assert.match((await conn.closed).reason, /^\(1009\)/);
  });

  it('reports a drop as ConnectionLostError and a silent server after the ping timeout', async () => {
    const server = await startRawServer({ autoPong: false });
    const dropped = await open(server.port);
    (await server.nextConnection()).terminate();
    await dropped.closed;
    assert.ok(dropped.error instanceof ConnectionLostError);

    const silent = await open(server.port, '/ws', { pingDelay: 30, pingTimeout: 60 });
    await silent.closed;
    assert.ok(silent.error instanceof ConnectionLostError);
    assert.match(silent.error.message, /no answer within 60 ms/);
  });
});
