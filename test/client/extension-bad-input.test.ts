/**
 * Bad koa-juggler.v1 input from a server spoken by hand: what is a
 * protocol error (the client closes with 1002 and fails everything with
 * ProtocolError) and what PROTOCOL.md says to ignore (messages for a call
 * that is not open, which may have crossed its end in flight).
 */
import assert from 'node:assert/strict';
import { connect, ProtocolError, type Client } from '../../src/client/index.js';
import { onCleanup } from '../support/cleanup.js';
import { startRawServer, type RawConnection } from '../support/raw-server.js';
import { waitFor } from '../support/wait.js';

/** A raw server that selects koa-juggler.v1, a client on it past welcome, and the server's end. */
async function extensionPair(streamWindow = 2): Promise<{ client: Client; conn: RawConnection }> {
  const server = await startRawServer({ protocol: 'koa-juggler.v1' });
  const pending = connect(server.url);
  const conn = await server.nextConnection();
  assert.equal((await conn.nextMessage()).type, 'hello');
  conn.sendMessage({ type: 'welcome', session: 'tok', resumed: false, streamWindow });
  const client = await pending;
  onCleanup(async () => {
    client.close();
    await client.closed;
  });
  return { client, conn };
}

async function closedWithProtocolError(client: Client, conn: RawConnection, reason: RegExp): Promise<void> {
  const closed = await conn.closed;
  assert.equal(closed.code, 1002);
  assert.match(closed.reason, reason);
  await client.closed;
  assert.ok(client.error instanceof ProtocolError);
}

describe('bad koa-juggler.v1 input (client)', () => {
  it('closes with 1002 on a second welcome, failing requests and calls with ProtocolError', async () => {
    const { client, conn } = await extensionPair();
    const request = client.send('x', null);
    const call = client.stream('s', null);
    const reading = call[Symbol.asyncIterator]().next();
    conn.sendMessage({ type: 'welcome', session: 'tok', resumed: false, streamWindow: 2 });
    await assert.rejects(request, ProtocolError);
    await assert.rejects(reading, (err: unknown) => err instanceof ProtocolError && /welcome sent twice/.test(err.message));
    await closedWithProtocolError(client, conn, /welcome sent twice/);
  });

  it('closes with 1002 on stream-data beyond the credit it granted', async () => {
    const { client, conn } = await extensionPair(2);
    const call = client.stream('s', null);
    const { id } = (await conn.nextMessage()) as { id: number };
    // Nothing is read, so no credit goes back: the window is all the server has.
    for (let i = 0; i < 3; i++) conn.sendMessage({ type: 'stream-data', id, data: i });
    await closedWithProtocolError(client, conn, /beyond the granted credit/);
    const got: unknown[] = [];
    await assert.rejects(
      (async () => {
        for await (const item of call) got.push(item);
      })(),
      ProtocolError,
    );
    assert.deepEqual(got, [0, 1], 'what arrived within the credit is still read');
  });

  it('closes with 1002 on stream-data after the server ended a call that is still open', async () => {
    const { client, conn } = await extensionPair();
    const call = client.stream('s', null);
    await call.send('keeps the call open until end()');
    const { id } = (await conn.nextMessage()) as { id: number };
    conn.sendMessage({ type: 'stream-end', id });
    conn.sendMessage({ type: 'stream-data', id, data: 1 });
    await closedWithProtocolError(client, conn, /after stream-end/);
  });

  it('closes with 1002 on a malformed stream message (credit of 0, no id)', async () => {
    for (const bad of [{ type: 'stream-credit', id: 1, n: 0 }, { type: 'stream-end' }]) {
      const { client, conn } = await extensionPair();
      conn.sendMessage(bad);
      await closedWithProtocolError(client, conn, /stream-/);
    }
  });

  it('ignores messages for an unknown or finished stream id, and keeps working', async () => {
    const { client, conn } = await extensionPair();
    for (const type of ['stream-data', 'stream-end', 'stream-credit', 'stream-error']) {
      conn.sendMessage({ type, id: 99, data: 1, n: 1 });
    }
    // A call cancelled by the client: the server's data crossing the cancel is dropped.
    const call = client.stream('s', null);
    const { id } = (await conn.nextMessage()) as { id: number };
    call.cancel();
    assert.deepEqual(await conn.nextMessage(), { type: 'stream-error', id, data: 'cancelled' });
    conn.sendMessage({ type: 'stream-data', id, data: 'late' });
    conn.sendMessage({ type: 'stream-end', id });
    // A call that sent nothing is over (both ends) once the server ends: what follows is ignored too.
    const quiet = client.stream('q', null);
    await conn.nextMessage();
    conn.sendMessage({ type: 'stream-end', id: quiet.id });
    assert.deepEqual(await conn.nextMessage(), { type: 'stream-end', id: quiet.id });
    conn.sendMessage({ type: 'stream-data', id: quiet.id, data: 'late' });
    const answer = client.send('still', null);
    const request = await conn.nextMessage();
    conn.respond(request.id, true, 'open');
    assert.equal(await answer, 'open');
    assert.equal(client.status, 'open');
    assert.equal(call.buffered, 0);
  });

  it('takes a state message without a version, leaving version null', async () => {
    const { client, conn } = await extensionPair();
    conn.sendState([{ op: 'replace', path: '', value: 1 }]);
    await waitFor(() => client.state === 1, 'the state');
    assert.equal(client.version, null);
    const echo = client.send('', 'still open');
    const request = await conn.nextMessage();
    conn.respond(request.id, true, request.data);
    assert.equal(await echo, 'still open');
    assert.equal(client.status, 'open');
  });

  it('never sends stream-data beyond the server\'s credit', async () => {
    const { client, conn } = await extensionPair(2);
    const call = client.stream('up', null);
    const sends = [1, 2, 3, 4].map((n) => call.send(n));
    const data = () => conn.messages.filter((m) => m.type === 'stream-data').map((m) => m.data);
    // Messages leave in order: an item sent beyond the credit would arrive before this echo request.
    const echoed = async (tag: string): Promise<void> => {
      const echo = client.send('', tag);
      const request = await waitFor(() => conn.messages.find((m) => m.type === 'request' && m.data === tag), `the ${tag} request`);
      conn.respond(request.id, true, tag);
      await echo;
    };
    await waitFor(() => data().length >= 2, 'a window of items');
    await echoed('first');
    assert.deepEqual(data(), [1, 2]);
    conn.sendMessage({ type: 'stream-credit', id: call.id, n: 1 });
    await waitFor(() => data().length >= 3, 'one more item');
    await echoed('second');
    assert.deepEqual(data(), [1, 2, 3]);
    conn.sendMessage({ type: 'stream-credit', id: call.id, n: 5 });
    await Promise.all(sends);
    await waitFor(() => data().length === 4, 'the last item');
    assert.deepEqual(data(), [1, 2, 3, 4]);
  });
});
