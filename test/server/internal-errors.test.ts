/**
 * A throw inside our own server code (not the user's handler, not bad
 * input) closes that connection alone with 1011 and is reported to onError
 * as 'internal': never a 1002 that blames the peer, never a socket closed
 * without a code, never an exception escaping into ws's event emitter.
 */
import assert from 'node:assert/strict';
import { Storage, type JsonValue } from '../../src/index.js';
import { RawClient } from '../support/raw-client.js';
import { startServer } from '../support/server.js';
import { waitFor } from '../support/wait.js';

/**
 * A shared state that breaks on demand: once armed, reading its value
 * throws, so joining it (the server sends a new client the whole value)
 * fails inside the server's own code.
 */
class BrokenStorage extends Storage {
  armed = false;

  override get data(): JsonValue {
    if (this.armed) throw new Error('the state cannot be read');
    return super.data;
  }
}

describe('internal errors', () => {
  it('closes a plain connection whose state join fails with 1011, reports it, and leaves the others open', async () => {
    const state = new BrokenStorage({ count: 1 });
    const server = await startServer({ state, onRequest: (_conn, _name, data) => data });
    const healthy = await RawClient.connect(server.url);
    await healthy.next((m) => m.type === 'state');
    state.armed = true;

    const victim = await RawClient.connect(server.url);
    const closed = await victim.waitClose();
    assert.deepEqual(closed, { code: 1011, reason: 'internal server error' });
    const internal = await waitFor(() => server.errors.find((e) => e.kind === 'internal'), 'the error reported');
    assert.match(internal!.err.message, /the state cannot be read/);
    assert.equal(server.errors.filter((e) => e.kind === 'protocol').length, 0, 'never a protocol error');

    healthy.request(1, 'echo', 'still here');
    assert.equal((await healthy.response(1)).data, 'still here');
  });

  it('closes an extension connection that fails while handling its hello with 1011, not 1002', async () => {
    const state = new BrokenStorage({ count: 1 });
    const server = await startServer({ state });
    state.armed = true;
    const client = await RawClient.connect(server.url, { protocols: ['koa-juggler.v1'] });
    client.send({ type: 'hello' });
    assert.deepEqual(await client.waitClose(), { code: 1011, reason: 'internal server error' });
    const kinds = server.errors.map((e) => e.kind);
    assert.ok(kinds.includes('internal'), `reported as internal (got ${kinds.join(', ')})`);
    assert.ok(!kinds.includes('protocol'), 'never a protocol error');
  });
});
