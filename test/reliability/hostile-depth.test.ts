/**
 * Depth bombs: a message nested past `maxJsonDepth` closes its connection
 * with 1008 before anything parses it, without blocking the event loop
 * (`JSON.parse` of two million `[` takes 0.2-1.3 s before it fails), while
 * a bystander on the same server keeps being served. The client has the
 * same guard against its server.
 */
import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { connect, ConnectionClosedError, ProtocolError } from '../../src/client/index.js';
import { Storage } from '../../src/index.js';
import { Bystander, bumpHandler } from '../support/bystander.js';
import { frame, RawSocket } from '../support/raw-socket.js';
import { startServer } from '../support/server.js';
import { waitFor } from '../support/wait.js';

const MB = 1024 * 1024;

async function setup(options: { maxJsonDepth?: number } = {}) {
  const server = await startServer({ state: new Storage({}), autoflushDelay: 0, onRequest: bumpHandler, ...options });
  const bystander = await Bystander.join(server.url);
  await bystander.check();
  return { server, bystander };
}

describe('hostile input: nesting depth', function () {
  this.timeout(20_000);

  it('closes a 2 MB message of [ with 1008 at once, the event loop never blocked, a bystander served', async () => {
    const { server, bystander } = await setup();
    const histogram = monitorEventLoopDelay({ resolution: 5 });
    histogram.enable();
    const raw = RawSocket.open(server.port);
    await raw.upgraded();
    const started = Date.now();
    raw.write(frame('0' + '['.repeat(2 * MB)));
    const outcome = await raw.waitEnd();
    const took = Date.now() - started;
    await bystander.check();
    histogram.disable();
    assert.equal(outcome.code, 1008);
    assert.match(outcome.reason, /maxJsonDepth \(64\)/);
    const worstMs = histogram.max / 1e6;
    assert.ok(worstMs < 100, `the event loop was blocked for ${worstMs.toFixed(0)} ms`);
    assert.ok(took < 2000, `refused after ${took} ms`);
    assert.ok(server.errors.some((e) => e.kind === 'protocol' && /maxJsonDepth/.test(e.err.message)));
  });

  it('refuses a bomb sent in segments, hidden in a string-free request, or deep in an object', async () => {
    const { server, bystander } = await setup({ maxJsonDepth: 16 });
    const bombs = [
      Buffer.concat([frame('1{"type":"request","id":1,"name":"x","data":' + '['.repeat(40_000)), frame('0' + '['.repeat(40_000))]),
      frame('0' + JSON.stringify({ type: 'request', id: 2, name: 'x', data: JSON.parse('{"a":'.repeat(16) + '1' + '}'.repeat(16)) })),
    ];
    for (const bytes of bombs) {
      const raw = RawSocket.open(server.port, bytes);
      assert.equal((await raw.waitEnd()).code, 1008);
      await bystander.check();
    }
  });

  it('accepts brackets inside strings and a message exactly at the bound', async () => {
    const { server } = await setup({ maxJsonDepth: 4 });
    const client = await connect(server.url);
    assert.equal(await client.send('echo', '[[[[[[{{{{{{\\"['), '[[[[[[{{{{{{\\"[');
    // The request object is level 1, so data may nest three deep.
    assert.deepEqual(await client.send('echo', [[['x']]]), [[['x']]]);
    await assert.rejects(client.send('echo', [[[['x']]]]));
    await client.closed;
    assert.ok(client.error instanceof ConnectionClosedError && client.error.code === 1008, String(client.error));
  });

  it('makes the client close with 1008 on a state nested past its maxJsonDepth', async () => {
    let deep: unknown = 1;
    for (let i = 0; i < 10; i++) deep = [deep];
    const server = await startServer({ state: new Storage({ deep } as never) });
    const client = await connect(server.url, { maxJsonDepth: 12, onError: () => {} });
    await client.closed;
    assert.ok(client.error instanceof ProtocolError && client.error.closeCode === 1008, String(client.error));
    const roomy = await connect(server.url, { maxJsonDepth: 14 });
    await waitFor(() => roomy.state !== null, 'the whole state');
    roomy.close();
  });
});
