// Whose fault a failure is, on the client: invalid input from the server is
// a ProtocolError (1002, fatal to reconnect() by default); something that
// throws inside the client itself is an InternalError closed with 1011,
// which reconnect() retries; a user callback that throws is reported and
// closes nothing. The internal failure is caused for real, through the
// socket adapter seam: a socket whose send() throws while the client
// answers a ping in its receive path.
import assert from 'node:assert/strict';
import { ConnectionClosedError, InternalError, ProtocolError, type Client } from '../../src/client/index.js';
import { connectWith, type Platform } from '../../src/client/connect.js';
import { openNodeSocket } from '../../src/client/node-socket.js';
import { reconnectWith } from '../../src/client/reconnect.js';
import type { ClientSocket } from '../../src/client/socket.js';
import { onCleanup } from '../support/cleanup.js';
import { errorSink } from '../support/client-helpers.js';
import { startRawServer } from '../support/raw-server.js';
import { deferred, waitFor } from '../support/wait.js';

const FAST = { initial: 10, max: 20, jitter: 0 };

/** Node's socket adapter, except that the first `failures` pongs it is asked to send throw. */
function failingPongs(failures: number): Platform {
  let left = failures;
  return {
    name: 'node',
    openSocket: async (url, options, signal) => {
      const socket = await openNodeSocket(url, options, signal);
      const wrapped: ClientSocket = {
        get protocol() {
          return socket.protocol;
        },
        send(frame, done) {
          if (typeof frame === 'string' && frame.startsWith('3') && left > 0) {
            left -= 1;
            throw new Error('socket adapter failed');
          }
          socket.send(frame, done);
        },
        close: (code, reason) => socket.close(code, reason),
        destroy: () => socket.destroy(),
        listen: (handlers) => socket.listen(handlers),
      };
      return wrapped;
    },
  };
}

async function open(platform: Platform, url: string, options = {}): Promise<Client> {
  const client = await connectWith(platform, url, options);
  onCleanup(async () => {
    client.close();
    await client.closed;
  });
  return client;
}

describe('client internal errors', () => {
  it('closes with 1011 and fails what is pending with InternalError when the client itself throws', async () => {
    const server = await startRawServer();
    const client = await open(failingPongs(1), server.url);
    const conn = await server.nextConnection();
    const pending = client.send('waits', null);
    await conn.nextMessage();
    conn.send('2ping');
    await assert.rejects(pending, (err: unknown) => err instanceof InternalError && err.closeCode === 1011 && !(err instanceof ProtocolError));
    assert.ok(client.error instanceof InternalError);
    assert.equal((client.error.cause as Error).message, 'socket adapter failed');
    assert.equal((await conn.closed).code, 1011);
    await client.closed;
    await assert.rejects(client.send('after', null), (err: unknown) => err instanceof ConnectionClosedError && err.code === 1011);
  });

  it("reconnect() retries after the client's own 1011 (not fatal, unlike its 1002)", async () => {
    let n = 0;
    const server = await startRawServer({
      onConnection: (conn) => {
        n += 1;
        if (n === 1) conn.send('2ping');
        else conn.sendState([{ op: 'replace', path: '', value: n }]);
      },
    });
    const gaveUp = deferred<Error>();
    const disconnects: Error[] = [];
    const live = reconnectWith(failingPongs(1), server.url, {
      backoff: FAST,
      onGiveUp: gaveUp.resolve,
      onDisconnected: (err) => disconnects.push(err),
    });
    onCleanup(async () => {
      live.close();
      await live.closed;
    });
    await Promise.race([waitFor(() => live.state === 2, 'the second connection'), gaveUp.promise.then((err) => assert.fail(`gave up: ${err.message}`))]);
    assert.equal((await server.connections[0]!.closed).code, 1011);
    assert.ok(disconnects[0] instanceof InternalError);
  });

  it('reports an onChange or onNotify callback that throws, and closes nothing', async () => {
    const server = await startRawServer({ onRequest: (_c, r) => ({ success: true, data: r.data }) });
    const sink = errorSink();
    const client = await open(failingPongs(0), server.url, {
      onError: sink.onError,
      onNotify: () => {
        throw new Error('onNotify bug');
      },
    });
    client.onChange(() => {
      throw new Error('onChange bug');
    });
    const conn = await server.nextConnection();
    conn.sendState([{ op: 'replace', path: '', value: 1 }]);
    conn.sendNotify('n', null);
    await waitFor(() => sink.errors.length === 2, 'both callbacks reported');
    assert.deepEqual(
      sink.errors.map((err) => (err as Error).message),
      ['onChange bug', 'onNotify bug'],
    );
    assert.equal(await client.send('echo', 'still open'), 'still open');
    assert.equal(client.status, 'open');
  });
});
