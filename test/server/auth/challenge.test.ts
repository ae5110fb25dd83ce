import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import WebSocket from 'ws';
import { InvalidArgumentError } from '../../../src/errors.js';
import { REALM, WWW_AUTHENTICATE, rejectUnauthorized, rejectUpgrade } from '../../../src/server/auth/challenge.js';

/** An HTTP server on 127.0.0.1, port 0, whose upgrades go to `onUpgrade`. */
async function upgradeServer(onUpgrade: (socket: Duplex) => void) {
  const sockets: Duplex[] = [];
  const server = http.createServer((_req, res) => res.end('plain'));
  server.on('upgrade', (_req, socket: Duplex) => {
    sockets.push(socket);
    onUpgrade(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    sockets,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Sends a raw upgrade request and collects every byte until the server closes. */
async function rawUpgrade(port: number): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  socket.write(
    'GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
      'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
  );
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  await once(socket, 'close');
  return Buffer.concat(chunks).toString('utf8');
}

describe('challenge', () => {
  it('has the realm and the Basic challenge with a UTF-8 charset', () => {
    assert.equal(REALM, 'koa-juggler');
    assert.equal(WWW_AUTHENTICATE, 'Basic realm="koa-juggler", charset="UTF-8"');
  });

  describe('rejectUnauthorized', () => {
    it('writes exactly a 401 with the challenge and closes the connection', async () => {
      const srv = await upgradeServer((socket) => rejectUnauthorized(socket));
      try {
        const response = await rawUpgrade(srv.port);
        assert.equal(
          response,
          'HTTP/1.1 401 Unauthorized\r\n' +
            'Connection: close\r\n' +
            'Content-Type: text/plain; charset=utf-8\r\n' +
            'Content-Length: 23\r\n' +
            'WWW-Authenticate: Basic realm="koa-juggler", charset="UTF-8"\r\n' +
            '\r\n' +
            'authentication required',
        );
        assert.ok(srv.sockets[0]!.destroyed);
      } finally {
        await srv.close();
      }
    });

    it('makes a ws client fail the handshake with the 401 and its challenge', async () => {
      const srv = await upgradeServer((socket) => rejectUnauthorized(socket));
      try {
        const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/ws`);
        const errors: Error[] = [];
        ws.on('error', (err) => errors.push(err));
        const [, res] = (await once(ws, 'unexpected-response')) as [http.ClientRequest, http.IncomingMessage];
        assert.equal(res.statusCode, 401);
        assert.equal(res.headers['www-authenticate'], WWW_AUTHENTICATE);
        assert.equal(res.headers.connection, 'close');
        // With an 'unexpected-response' listener, ws leaves ending the attempt to us.
        // (events.once would reject on the expected 'error', so wait for 'close' by hand.)
        const closed = new Promise((resolve) => ws.on('close', resolve));
        ws.terminate();
        await closed;
        assert.equal(ws.readyState, WebSocket.CLOSED);
        assert.deepEqual(errors.map((e) => e.message), ['WebSocket was closed before the connection was established']);
      } finally {
        await srv.close();
      }
    });
  });

  describe('rejectUpgrade', () => {
    const table: { status: number; body: string | undefined; headers: Record<string, string | number> }[] = [
      { status: 403, body: 'origin not allowed', headers: {} },
      { status: 503, body: 'too many connections', headers: { 'Retry-After': 5 } },
      { status: 400, body: undefined, headers: {} },
      { status: 426, body: 'use WebSocket', headers: { Upgrade: 'websocket' } },
    ];
    for (const { status, body, headers } of table) {
      it(`answers ${status} with a text body and closes`, async () => {
        const srv = await upgradeServer((socket) => rejectUpgrade(socket, status, headers, body));
        try {
          const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
            const request = http.get({
              port: srv.port,
              host: '127.0.0.1',
              path: '/ws',
              headers: { Connection: 'Upgrade', Upgrade: 'websocket' },
            });
            request.on('response', resolve);
            request.on('error', reject);
          });
          const text = (await res.toArray()).map(String).join('');
          assert.equal(res.statusCode, status);
          assert.equal(res.statusMessage, http.STATUS_CODES[status]);
          assert.equal(text, body ?? http.STATUS_CODES[status]);
          assert.equal(res.headers['content-length'], String(Buffer.byteLength(text)));
          assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
          assert.equal(res.headers.connection, 'close');
          assert.equal(res.headers['www-authenticate'], undefined);
          for (const [name, value] of Object.entries(headers)) assert.equal(res.headers[name.toLowerCase()], String(value));
        } finally {
          await srv.close();
        }
      });
    }

    it('counts Content-Length in bytes for a non-ASCII body', async () => {
      const srv = await upgradeServer((socket) => rejectUpgrade(socket, 403, {}, 'Ursprung nicht erlaubt: ü'));
      try {
        const response = await rawUpgrade(srv.port);
        assert.match(response, /\r\nContent-Length: 26\r\n/);
        assert.ok(response.endsWith('\r\n\r\nUrsprung nicht erlaubt: ü'));
      } finally {
        await srv.close();
      }
    });

    it('does not throw on a socket that is already destroyed', async () => {
      const srv = await upgradeServer((socket) => {
        socket.destroy();
        rejectUpgrade(socket, 401);
      });
      try {
        assert.equal(await rawUpgrade(srv.port), '');
      } finally {
        await srv.close();
      }
    });

    it('refuses a bad status or a header that could split the response', () => {
      const socket = new net.Socket();
      for (const status of [99, 1000, 401.5, NaN]) {
        assert.throws(() => rejectUpgrade(socket, status), InvalidArgumentError);
      }
      assert.throws(() => rejectUpgrade(socket, 401, { 'X-A': 'ok\r\nSet-Cookie: x=1' }), InvalidArgumentError);
      assert.throws(() => rejectUpgrade(socket, 401, { 'X-A\r\nB': 'ok' }), InvalidArgumentError);
      assert.throws(() => rejectUpgrade(socket, 401, { 'Bad Name': 'ok' }), InvalidArgumentError);
      socket.destroy();
    });
  });
});
