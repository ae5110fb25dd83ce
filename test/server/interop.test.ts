/**
 * The official browser client, @hat-open/juggler 0.7, against our server in
 * Node: what a dashboard written for hat-juggler gets.
 */
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { JugglerError, Storage } from '../../src/index.js';
import { startServer } from '../support/server.js';
import { deferred, waitFor } from '../support/wait.js';

type Official = typeof import('@hat-open/juggler');
let juggler: Official;

before(async () => {
  // What its import and its Connection need from a browser.
  const g = globalThis as Record<string, unknown>;
  g.WebSocket ??= WebSocket;
  g.window ??= { location: { protocol: 'http:', hostname: '127.0.0.1', port: '' } };
  g.document ??= { addEventListener() {}, createElement: () => ({}) };
  juggler = await import('@hat-open/juggler');
});

async function officialClient(url: string) {
  const conn = new juggler.Connection(url);
  const opened = deferred();
  conn.addEventListener('open', () => opened.resolve());
  await opened.promise;
  const closed = deferred();
  conn.addEventListener('close', () => closed.resolve());
  return { conn, closed: closed.promise };
}

describe('interop: @hat-open/juggler 0.7 against our server', () => {
  it('sends requests and gets results and failure data', async () => {
    const server = await startServer({
      onRequest(_conn, name, data) {
        if (name === 'fail') throw new JugglerError({ why: 'refused' });
        return { got: data };
      },
    });
    const { conn, closed } = await officialClient(server.url);
    assert.deepEqual(await conn.send('echo', [1, 'two']), { got: [1, 'two'] });
    await assert.rejects(conn.send('fail', null), (data: unknown) => {
      assert.deepEqual(data, { why: 'refused' });
      return true;
    });
    conn.close();
    await closed;
  });

  it('syncs state, including payloads over 64 KiB, and gets notifications', async () => {
    const shared = new Storage({ rows: [] });
    const server = await startServer({
      state: shared,
      autoflushDelay: 10,
      async onRequest(conn, name) {
        if (name === 'grow') shared.set('big', 'z'.repeat(200_000) + '\u{1F600}');
        if (name === 'notify') await conn.notify('event', { big: 'n'.repeat(100_000) });
        return null;
      },
    });
    const { conn, closed } = await officialClient(server.url);
    const notified = deferred<{ name: string; data: { big: string } }>();
    conn.addEventListener('notify', (evt) => notified.resolve((evt as CustomEvent).detail));
    await waitFor(() => conn.state !== null, 'the first state');
    assert.deepEqual(conn.state, { rows: [] });
    await conn.send('grow', null);
    const state = () => conn.state as unknown as { big?: string };
    await waitFor(() => state().big !== undefined, 'the big diff');
    assert.equal(state().big, 'z'.repeat(200_000) + '\u{1F600}');
    await conn.send('notify', null);
    const n = await notified.promise;
    assert.equal(n.name, 'event');
    assert.equal(n.data.big.length, 100_000);
    shared.set(['rows', 0], { id: 1 });
    shared.remove('big');
    await waitFor(() => JSON.stringify(conn.state) === JSON.stringify(shared.data), 'the client to match the server');
    conn.close();
    await closed;
  });
});
