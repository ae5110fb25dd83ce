/**
 * Cross-site WebSocket hijacking: the Origin check on the upgrade
 * (PROTOCOL.md, "Security of the upgrade"), over ws with handcrafted
 * headers. With authentication on and no allowedOrigins, only the server's
 * own origin may open the socket; allowedOrigins, when given, decides
 * alone; a handshake without Origin is not a browser's and passes. A
 * refused Origin is a 403 before authentication runs. (The same in a real
 * browser: test/browser/origin.test.ts.)
 */
import assert from 'node:assert/strict';
import { makePki } from '../support/cert.js';
import { onCleanup } from '../support/cleanup.js';
import { makeHtpasswd } from '../support/htpasswd.js';
import { RawClient } from '../support/raw-client.js';
import { RawSocket } from '../support/raw-socket.js';
import { startServer } from '../support/server.js';

const basic = (user: string, password: string) => 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');

/** 101, or the HTTP status the upgrade was refused with. */
async function status(url: string, headers: Record<string, string>, ca?: string): Promise<number> {
  try {
    const client = await RawClient.connect(url, { headers, ca });
    client.close();
    return 101;
  } catch (err) {
    return (err as { status?: number }).status ?? -1;
  }
}

async function htpasswdServer(extra: Parameters<typeof startServer>[0] = {}) {
  const file = await makeHtpasswd([{ user: 'ops', password: 'secret', format: 'apr1' }]);
  onCleanup(() => file.cleanup());
  return startServer({ htpasswdFile: file.path, ...extra });
}

describe('Origin check on the upgrade', () => {
  describe('with authentication and no allowedOrigins: only the own origin', () => {
    const auth = { authorization: basic('ops', 'secret') };

    it('admits the own origin and a handshake without Origin', async () => {
      const server = await htpasswdServer();
      const own = `http://127.0.0.1:${server.port}`;
      assert.equal(await status(server.url, { ...auth, origin: own }), 101);
      assert.equal(await status(server.url, { ...auth, origin: own.toUpperCase() }), 101, 'origins compare case-insensitively');
      assert.equal(await status(server.url, auth), 101, 'no Origin: not a browser');
    });

    it('refuses every other origin with 403, even with valid credentials', async () => {
      const server = await htpasswdServer();
      const p = server.port;
      for (const origin of [
        `http://127.0.0.1:${p + 1}`, // another port is another origin
        `https://127.0.0.1:${p}`, // another scheme
        `http://localhost:${p}`, // another host name for the same machine
        `http://127.0.0.1:${p}.evil.example`,
        `http://evil.example`,
        `http://127.0.0.1`,
        'null', // sandboxed iframes, file: pages, some redirects
        'file://',
        '',
        'not a url',
        `http://127.0.0.1:${p}, http://evil.example`,
      ]) {
        assert.equal(await status(server.url, { ...auth, origin }), 403, `Origin: ${origin}`);
      }
      assert.equal([...server.connections].length, 0);
    });

    it('refuses a bad Origin before authenticating: 403 without credentials, and authenticate() never runs', async () => {
      let calls = 0;
      const server = await startServer({
        authenticate: (req) => {
          calls += 1;
          return req.headers.cookie === 'session=valid' ? 'ops' : null;
        },
      });
      assert.equal(await status(server.url, { origin: 'http://evil.example' }), 403);
      assert.equal(await status(server.url, { origin: 'http://evil.example', cookie: 'session=valid' }), 403, 'a cookie does not help');
      assert.equal(calls, 0);
      assert.equal(await status(server.url, { origin: `http://127.0.0.1:${server.port}`, cookie: 'session=valid' }), 101);
      assert.equal(await status(server.url, { origin: `http://127.0.0.1:${server.port}` }), 401);
    });

    it('refuses two Origin headers (the browser sends one)', async () => {
      const server = await htpasswdServer();
      const raw = RawSocket.open(server.port, Buffer.alloc(0), {
        headers: { authorization: auth.authorization, origin: `http://127.0.0.1:${server.port}\r\nOrigin: http://evil.example` },
      });
      const outcome = await raw.waitEnd();
      assert.equal(outcome.status, 403);
    });

    it('takes https as the own scheme on a TLS server', async () => {
      const pki = await makePki();
      const server = await htpasswdServer({ tls: { key: pki.key, cert: pki.cert } });
      assert.equal(await status(server.url, { ...auth, origin: `https://127.0.0.1:${server.port}` }, pki.ca), 101);
      assert.equal(await status(server.url, { ...auth, origin: `http://127.0.0.1:${server.port}` }, pki.ca), 403);
    });
  });

  describe('with allowedOrigins', () => {
    it('admits exactly those origins (and no Origin), with or without authentication', async () => {
      for (const withAuth of [false, true]) {
        const options = { allowedOrigins: ['https://dashboard.example', 'http://127.0.0.1:9'] };
        const server = withAuth ? await htpasswdServer(options) : await startServer(options);
        const headers: Record<string, string> = withAuth ? { authorization: basic('ops', 'secret') } : {};
        assert.equal(await status(server.url, { ...headers, origin: 'https://dashboard.example' }), 101);
        assert.equal(await status(server.url, { ...headers, origin: 'HTTPS://Dashboard.Example:443' }), 101, 'normalized');
        assert.equal(await status(server.url, { ...headers, origin: 'http://127.0.0.1:9' }), 101);
        assert.equal(await status(server.url, headers), 101);
        // The own origin is not implied once the list is given.
        assert.equal(await status(server.url, { ...headers, origin: `http://127.0.0.1:${server.port}` }), 403);
        assert.equal(await status(server.url, { ...headers, origin: 'http://dashboard.example' }), 403);
        assert.equal(await status(server.url, { ...headers, origin: 'https://dashboard.example.evil' }), 403);
      }
    });
  });

  describe('without authentication and without allowedOrigins', () => {
    it('admits any origin: there are no credentials for another site to ride on', async () => {
      const server = await startServer({});
      for (const origin of ['http://evil.example', 'null', `http://127.0.0.1:${server.port}`]) {
        assert.equal(await status(server.url, { origin }), 101, origin);
      }
    });
  });
});
