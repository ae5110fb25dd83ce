import assert from 'node:assert/strict';
import type { Connection } from '../../src/index.js';
import { RawClient } from '../support/raw-client.js';
import { startServer } from '../support/server.js';
import { deferred, within } from '../support/wait.js';

/** A server whose connections are handed out as they open. */
async function serverWithConnection(options: Parameters<typeof startServer>[0] = {}) {
  const opened = deferred<Connection>();
  const server = await startServer({ ...options, onConnection: (conn) => opened.resolve(conn) });
  const client = await RawClient.connect(server.url);
  const conn = await within(opened.promise, 2000, 'onConnection');
  return { server, client, conn };
}

describe('conn.closed', () => {
  it('resolves with the code and reason the server sent', async () => {
    const { client, conn } = await serverWithConnection();
    conn.close(4002, 'bye');
    assert.deepEqual(await within(conn.closed, 2000, 'conn.closed'), { code: 4002, reason: 'bye' });
    assert.deepEqual(await client.waitClose(), { code: 4002, reason: 'bye' });
  });

  it('resolves with the code and reason the client sent', async () => {
    const { client, conn } = await serverWithConnection();
    client.ws.close(4100, 'client bye');
    assert.deepEqual(await within(conn.closed, 2000, 'conn.closed'), { code: 4100, reason: 'client bye' });
  });

  it('resolves with 1006 and no reason when the socket died without a close frame', async () => {
    const { client, conn } = await serverWithConnection();
    client.ws.terminate();
    assert.deepEqual(await within(conn.closed, 2000, 'conn.closed'), { code: 1006, reason: '' });
  });

  it('keeps the close frame sent first when the peer never answers it and the socket is cut', async () => {
    const { server, client, conn } = await serverWithConnection({ shutdownTimeout: 50 });
    // A peer that never answers the close frame: the server destroys the socket after shutdownTimeout.
    (client.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    await within(server.close(), 2000, 'server.close()');
    assert.deepEqual(await within(conn.closed, 100, 'conn.closed'), { code: 1001, reason: 'server shutting down' });
  });
});
