import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { RawClient } from '../support/raw-client.js';
import { startServer } from '../support/server.js';
import { deferred, waitFor, within } from '../support/wait.js';

describe('server transport', () => {
  it('answers a ping at once while a sequential request handler is still running', async () => {
    const gate = deferred();
    const running = deferred();
    const server = await startServer({
      onRequest: () => {
        running.resolve();
        return gate.promise.then(() => 'done');
      },
    });
    const client = await RawClient.connect(server.url);
    client.request(1, 'slow');
    await within(running.promise, 2000, 'the handler to run');
    client.sendFrame('2hello');
    const pongAt = Date.now();
    await within(
      new Promise<void>((resolve) => { const t = setInterval(() => { if (client.frames.includes('3hello')) { clearInterval(t); resolve(); } }, 2); }),
      500,
      'the pong',
    );
    assert.ok(Date.now() - pongAt < 500);
    assert.equal(client.messages.length, 0, 'the response is still pending');
    gate.resolve();
    assert.equal((await client.response(1)).data, 'done');
  });

  it('answers a ping that arrives between two segments of a message', async () => {
    const server = await startServer({ onRequest: (_c, _n, d) => d });
    const client = await RawClient.connect(server.url);
    const text = JSON.stringify({ type: 'request', id: 1, name: 'x', data: 'abcdef' });
    client.sendFrame('1' + text.slice(0, 10));
    client.sendFrame('2p');
    client.sendFrame('0' + text.slice(10));
    assert.equal((await client.response(1)).data, 'abcdef');
    assert.ok(client.frames.includes('3p'));
  });

  it('cuts large responses into segments that never split a surrogate pair', async () => {
    const server = await startServer({ maxSegmentSize: 7, onRequest: (_c, _n, d) => d });
    const client = await RawClient.connect(server.url);
    const data = '\u{1F600}'.repeat(20) + 'x' + '\u{1F680}'.repeat(20);
    client.request(1, 'emoji', data);
    assert.equal((await client.response(1)).data, data);
    const segments = client.frames.filter((f) => f[0] === '0' || f[0] === '1');
    assert.ok(segments.length > 10);
    for (const s of segments) {
      assert.ok(s.length - 1 <= 7);
      const last = s.charCodeAt(s.length - 1);
      assert.ok(!(last >= 0xd800 && last <= 0xdbff));
    }
  });

  it('reassembles a request sent in many segments', async () => {
    const server = await startServer({ onRequest: (_c, _n, d) => d });
    const client = await RawClient.connect(server.url);
    const text = JSON.stringify({ type: 'request', id: 1, name: 'big', data: 'y'.repeat(200_000) });
    for (let i = 0; i < text.length; i += 65536) client.sendFrame((i + 65536 >= text.length ? '0' : '1') + text.slice(i, i + 65536));
    assert.equal((await client.response(1)).data.length, 200_000);
  });

  it('pings a silent client after pingDelay and destroys it after pingTimeout', async () => {
    const server = await startServer({ pingDelay: 60, pingTimeout: 60 });
    const client = await RawClient.connect(server.url, { answerPings: false });
    const conn = [...server.connections][0]!;
    const started = Date.now();
    const closed = await client.waitClose(2000);
    const elapsed = Date.now() - started;
    assert.ok(client.frames.includes('2'), 'the server pinged');
    assert.equal(closed.code, 1006, 'destroyed, no close handshake');
    assert.ok(elapsed >= 100 && elapsed < 1000, `dropped after ${elapsed} ms`);
    await within(conn.closed, 1000, 'conn.closed');
    assert.equal([...server.connections].length, 0);
  });

  it('keeps a client that answers pings', async () => {
    const server = await startServer({ pingDelay: 30, pingTimeout: 30 });
    const client = await RawClient.connect(server.url);
    await waitFor(() => client.frames.filter((f) => f === '2').length >= 3, 'three pings', 2000);
    assert.equal(client.ws.readyState, WebSocket.OPEN);
  });

  it("speaks the seed-era protocol with framing: 'plain'", async () => {
    const server = await startServer({ framing: 'plain', onRequest: (_c, name, d) => ({ name, d }) });
    const ws = new WebSocket(server.url);
    await new Promise((resolve) => ws.once('open', resolve));
    const reply = new Promise<string>((resolve) => ws.once('message', (data) => resolve(data.toString())));
    ws.send(JSON.stringify({ type: 'request', id: 3, name: 'n', data: 'x'.repeat(100_000) }));
    const message = JSON.parse(await reply);
    assert.equal(message.id, 3);
    assert.equal(message.data.d.length, 100_000);
    ws.close();
  });
});
