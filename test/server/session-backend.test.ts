/**
 * The session-store seam: a server with a backend whose `open()` answers
 * later (as one in Redis does) holds what follows `hello` until `welcome`,
 * and a connection that closes meanwhile releases the session it was given.
 */
import assert from 'node:assert/strict';
import { Storage } from '../../src/index.js';
import type { OpenedSession, SessionBackend, SessionHandle } from '../../src/server/session-backend.js';
import { memorySessions } from '../../src/server/sessions.js';
import { RawClient } from '../support/raw-client.js';
import { startServer } from '../support/server.js';
import { deferred, waitFor } from '../support/wait.js';

/** The in-memory store, but `open()` answers only when the test says so. */
function slowBackend() {
  const gates: Array<() => void> = [];
  const released: SessionHandle[] = [];
  const backend: SessionBackend = (options) => {
    const inner = memorySessions(options);
    return {
      open(token): Promise<OpenedSession> {
        const gate = deferred();
        gates.push(gate.resolve);
        return gate.promise.then(() => inner.open(token));
      },
      token: (session) => inner.token(session),
      release(session) {
        released.push(session);
        inner.release(session);
      },
      close: () => inner.close(),
    };
  };
  return { backend, gates, released };
}

describe('session backend seam (server)', () => {
  it('holds requests sent behind hello until the session is open, then welcome, state and answers in order', async () => {
    const slow = slowBackend();
    let runs = 0;
    const server = await startServer({
      state: new Storage({ a: 1 }),
      sessionBackend: slow.backend,
      onRequest: (_conn, _name, data) => {
        runs += 1;
        return data;
      },
    });
    const client = await RawClient.connect(server.url, { protocols: 'koa-juggler.v1' });
    client.send({ type: 'hello' });
    client.send({ type: 'request', id: 1, name: 'echo', data: 'x', key: 'k' });
    client.send({ type: 'request', id: 2, name: 'echo', data: 'y', key: 'k' });
    await waitFor(() => slow.gates.length === 1, 'the open');
    assert.equal(client.messages.length, 0, 'nothing before the session is open');
    slow.gates[0]!();
    await waitFor(() => client.messages.length === 4, 'welcome, state and two answers');
    assert.deepEqual(client.messages.map((m) => m.type), ['welcome', 'state', 'response', 'response']);
    assert.deepEqual(client.messages.slice(2).map((m) => [m.id, m.data]), [[1, 'x'], [2, 'x']], 'the repeated key got the first outcome');
    assert.equal(runs, 1);
  });

  it('releases the session when the connection closed while it was being opened', async () => {
    const slow = slowBackend();
    const server = await startServer({ sessionBackend: slow.backend });
    const client = await RawClient.connect(server.url, { protocols: 'koa-juggler.v1' });
    client.send({ type: 'hello' });
    await waitFor(() => slow.gates.length === 1, 'the open');
    client.ws.close();
    await waitFor(() => [...server.connections].length === 0, 'the connection gone');
    slow.gates[0]!();
    await waitFor(() => slow.released.length === 1, 'the release');
    assert.deepEqual(server.errors, []);
  });
});
