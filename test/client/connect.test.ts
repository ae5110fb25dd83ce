import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { connect, ConnectError, InvalidArgumentError } from '../../src/client/index.js';
import { forgetPlainAddress } from '../../src/client/connect.js';
import { makePki } from '../support/cert.js';
import { onCleanup } from '../support/cleanup.js';
import { connectTo, deadPort } from '../support/client-helpers.js';
import { startRawServer } from '../support/raw-server.js';

/** A TCP server that answers every connection with `reply` (or nothing), for handshakes no WebSocket server would give. */
async function tcpServer(reply: string | null): Promise<{ port: number }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('data', () => {
      if (reply !== null) socket.write(reply);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as AddressInfo).port };
}

function isConnectError(kind: string, status: number | null = null, message?: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof ConnectError, `expected a ConnectError, got ${err}`);
    assert.equal(err.kind, kind);
    assert.equal(err.status, status);
    if (message) assert.match(err.message, message);
    return true;
  };
}

describe('connect()', () => {
  it('rejects with kind "refused" when nothing listens', async () => {
    const port = await deadPort();
    await assert.rejects(connect(`ws://127.0.0.1:${port}/ws`), isConnectError('refused', null, new RegExp(`refused by 127\\.0\\.0\\.1:${port}`)));
  });

  for (const status of [401, 403, 404, 503]) {
    it(`rejects with kind "http" and status ${status} when the upgrade is answered with ${status}`, async () => {
      const server = await startRawServer({ refuse: () => status });
      await assert.rejects(connect(server.url), isConnectError('http', status, new RegExp(`HTTP ${status}`)));
    });
  }

  it('says what a 401 means', async () => {
    const server = await startRawServer({ refuse: () => 401 });
    await assert.rejects(connect(server.url), /credentials/);
  });

  it('rejects with kind "timeout" when the handshake does not finish within connectTimeout', async () => {
    const { port } = await tcpServer(null);
    const started = Date.now();
    await assert.rejects(connect(`ws://127.0.0.1:${port}/ws`, { connectTimeout: 150 }), isConnectError('timeout', null, /150 ms/));
    const took = Date.now() - started;
    assert.ok(took >= 140 && took < 2000, `took ${took} ms`);
  });

  it('rejects with kind "aborted" when the signal aborts', async () => {
    const { port } = await tcpServer(null);
    const controller = new AbortController();
    const attempt = connect(`ws://127.0.0.1:${port}/ws`, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await assert.rejects(attempt, isConnectError('aborted'));
    await assert.rejects(connect(`ws://127.0.0.1:${port}/ws`, { signal: AbortSignal.abort() }), isConnectError('aborted'));
  });

  it('rejects with kind "handshake" on an invalid handshake answer', async () => {
    const { port } = await tcpServer(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: wrong\r\n\r\n',
    );
    await assert.rejects(connect(`ws://127.0.0.1:${port}/ws`), isConnectError('handshake', null, /Sec-WebSocket-Accept/));
  });

  it('rejects bad addresses with InvalidArgumentError naming url', async () => {
    for (const url of ['', 'not a url', 'http://127.0.0.1/ws', 'ws://127.0.0.1/ws#frag', 5]) {
      await assert.rejects(connect(url as string), (err: unknown) => err instanceof InvalidArgumentError && err.argument === 'url');
    }
  });

  it('offers koa-juggler.v1 only, and sends no Origin', async () => {
    forgetPlainAddress();
    const server = await startRawServer();
    await connectTo(server.url);
    const [offered, plain] = server.upgrades;
    assert.equal(offered!.headers['sec-websocket-protocol'], 'koa-juggler.v1');
    assert.equal(plain!.headers['sec-websocket-protocol'], undefined);
    for (const { headers } of server.upgrades) {
      assert.equal(headers.origin, undefined);
      assert.equal(headers.authorization, undefined);
    }
  });

  it('sends auth as an HTTP Basic Authorization header (UTF-8)', async () => {
    const server = await startRawServer();
    await connectTo(server.url, { auth: { username: 'jürgen', password: 'p:ss wörd' } });
    const { request } = await server.nextConnection();
    const header = request.headers.authorization!;
    assert.match(header, /^Basic /);
    assert.equal(Buffer.from(header.slice(6), 'base64').toString('utf8'), 'jürgen:p:ss wörd');
  });

  describe('over TLS', () => {
    let pki: Awaited<ReturnType<typeof makePki>>;
    before(async () => {
      pki = await makePki();
    });

    it('connects to wss: with the CA given in tls.ca', async () => {
      const server = await startRawServer({ tls: { key: pki.key, cert: pki.cert } });
      const client = await connectTo(server.url, { tls: { ca: pki.ca } });
      const conn = await server.nextConnection();
      conn.sendNotify('x', 1);
      assert.equal(client.status, 'open');
    });

    it('rejects with kind "tls" when the certificate is not trusted', async () => {
      const server = await startRawServer({ tls: { key: pki.key, cert: pki.cert } });
      await assert.rejects(connect(server.url), isConnectError('tls', null, /TLS failed/));
    });

    it('rejects with kind "tls" when the certificate is not one for a server', async () => {
      const server = await startRawServer({ tls: { key: pki.clientKey, cert: pki.clientCert } });
      await assert.rejects(connect(server.url, { tls: { ca: pki.ca } }), isConnectError('tls', null, /INVALID_PURPOSE/));
    });
  });
});
