/**
 * `compression`: permessage-deflate on the server and the Node client, off
 * by default; the extension negotiated and the bytes on the wire counted
 * by a TCP proxy.
 */
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { connect, InvalidArgumentError as ClientArgumentError } from '../../../src/client/index.js';
import { InvalidArgumentError, Storage } from '../../../src/index.js';
import { connectTo } from '../../support/client-helpers.js';
import { onCleanup } from '../../support/cleanup.js';
import { startServer } from '../../support/server.js';
import { startProxy } from '../../support/tcp-proxy.js';
import { waitFor } from '../../support/wait.js';

// Repetitive, as dashboard state is: deflate takes it to a small fraction.
const ROWS = Array.from({ length: 2000 }, (_, i) => ({ id: i, name: `pump ${i % 10}`, status: 'running', pressure: 3.5 }));

async function extensionsWith(url: string, perMessageDeflate: boolean): Promise<string> {
  const ws = new WebSocket(url, { perMessageDeflate });
  onCleanup(() => ws.terminate());
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  return ws.extensions;
}

/** Bytes the server sent through the proxy for one client that got the whole state. */
async function bytesToClient(serverCompression: boolean, clientCompression: boolean): Promise<number> {
  const server = await startServer({ state: new Storage({ rows: ROWS }), compression: serverCompression });
  const proxy = await startProxy(server.port);
  const client = await connectTo(proxy.url('/ws'), { compression: clientCompression });
  await waitFor(() => client.state !== null, 'the whole state');
  assert.deepEqual((client.state as { rows: unknown[] }).rows.length, ROWS.length);
  return proxy.connections[0]!.toClient;
}

describe('compression', () => {
  it('is off by default on the server: permessage-deflate is not negotiated', async () => {
    const server = await startServer();
    assert.equal(await extensionsWith(server.url, true), '');
  });

  it('negotiates permessage-deflate when on, and still serves clients that do not offer it', async () => {
    const server = await startServer({ compression: { threshold: 256 } });
    assert.match(await extensionsWith(server.url, true), /^permessage-deflate/);
    assert.equal(await extensionsWith(server.url, false), '');
  });

  it('compresses the frames on the wire when both sides have it on', async () => {
    const plain = await bytesToClient(false, false);
    const serverOnly = await bytesToClient(true, false);
    const both = await bytesToClient(true, true);
    const json = JSON.stringify({ rows: ROWS }).length;
    assert.ok(plain > json, `uncompressed: ${plain} bytes for ${json} of JSON`);
    assert.ok(serverOnly > json, 'a client that does not offer it gets plain frames');
    assert.ok(both < plain / 5, `compressed: ${both} bytes against ${plain}`);
  });

  it('carries requests both ways, compressed', async () => {
    const server = await startServer({ compression: true, onRequest: (_c, _n, data) => data });
    const client = await connectTo(server.url, { compression: true });
    const big = 'abc'.repeat(100_000);
    assert.equal(await client.send('echo', big), big);
  });

  it('rejects bad values naming the option', async () => {
    await assert.rejects(startServer({ compression: 'yes' as never }), (err: unknown) => err instanceof InvalidArgumentError && /options\.compression/.test(err.message));
    await assert.rejects(startServer({ compression: { threshold: -1 } }), /options\.compression\.threshold/);
    await assert.rejects(startServer({ compression: { level: 9 } as never }), /options\.compression\.level/);
    await assert.rejects(connect('ws://127.0.0.1:1/ws', { compression: 3 as never }), (err: unknown) => err instanceof ClientArgumentError && /options\.compression/.test(err.message));
  });
});
