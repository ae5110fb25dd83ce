/**
 * allowedHosts against DNS rebinding: every HTTP route and the upgrade
 * answer 403 to a Host header the server is not known by, over real
 * sockets with forged Host headers.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { connect as tcpConnect, type AddressInfo } from 'node:net';
import { attach, InvalidArgumentError, listen } from '../../src/index.js';
import { HostPolicy, isLoopbackAddress, splitHost } from '../../src/server/allowed-hosts.js';
import { onCleanup } from '../support/cleanup.js';
import { startServer } from '../support/server.js';
import { within } from '../support/wait.js';

/** Sends one raw HTTP/1.1 request with exactly these headers; resolves with the status. */
function statusOf(port: number, path: string, headers: string[]): Promise<number> {
  const socket = tcpConnect({ host: '127.0.0.1', port });
  onCleanup(() => socket.destroy());
  socket.write(`GET ${path} HTTP/1.1\r\n${headers.map((h) => h + '\r\n').join('')}Connection: close\r\n\r\n`);
  let head = '';
  return within(
    new Promise<number>((resolve, reject) => {
      socket.on('data', (chunk) => {
        head += chunk.toString('latin1');
        const m = /^HTTP\/1\.1 (\d{3})/.exec(head);
        if (m) {
          resolve(Number(m[1]));
          socket.destroy();
        }
      });
      socket.on('error', reject);
      socket.on('close', () => reject(new Error(`closed without a status: ${JSON.stringify(head)}`)));
    }),
    5000,
    'an HTTP answer',
  );
}

const UPGRADE = ['Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13'];
const upgradeStatus = (port: number, host: string) => statusOf(port, '/ws', [`Host: ${host}`, ...UPGRADE]);
// A plain GET of the WebSocket path is answered 426 (Upgrade Required) when the host is allowed.
const getStatus = (port: number, host: string, path = '/ws') => statusOf(port, path, [`Host: ${host}`]);

describe('allowedHosts', () => {
  describe('the default on a loopback address', () => {
    for (const host of ['localhost', '127.0.0.1', '[::1]', 'LOCALHOST:8080', '127.0.0.1:1', '[::1]:443', 'localhost.']) {
      it(`accepts Host: ${host} on a route and on the upgrade`, async () => {
        const server = await startServer();
        assert.equal(await getStatus(server.port, host), 426);
        assert.equal(await upgradeStatus(server.port, host), 101);
      });
    }
    for (const host of ['evil.example', 'evil.example:' + 80, 'localhost.evil.example', '127.0.0.2', '[::2]', '0.0.0.0']) {
      it(`refuses Host: ${host} with 403 on a route, the 426 answer and the upgrade`, async () => {
        const server = await startServer();
        assert.equal(await getStatus(server.port, host), 403);
        assert.equal(await getStatus(server.port, host, '/juggler-client.js'), 403);
        assert.equal(await getStatus(server.port, host, '/'), 403);
        assert.equal(await upgradeStatus(server.port, host), 403);
        assert.equal([...server.connections].length, 0);
      });
    }
  });

  it('allows any host when listening on all interfaces, unless told otherwise', async () => {
    const open = await listen({ host: '0.0.0.0', port: 0, onError: () => {} });
    onCleanup(() => open.close());
    assert.equal(await getStatus(open.port, 'dashboard.plant.example'), 426);
    const strict = await listen({ host: '0.0.0.0', port: 0, allowedHosts: ['dashboard.plant.example'], onError: () => {} });
    onCleanup(() => strict.close());
    assert.equal(await getStatus(strict.port, 'dashboard.plant.example:8080'), 426);
    assert.equal(await getStatus(strict.port, 'localhost'), 403);
  });

  it("takes names, name:port and .domain entries; 'all' accepts anything", async () => {
    const server = await startServer({ allowedHosts: ['ops.example:8443', '.plant.example'] });
    assert.equal(await getStatus(server.port, 'ops.example:8443'), 426);
    assert.equal(await getStatus(server.port, 'ops.example:8080'), 403);
    assert.equal(await getStatus(server.port, 'ops.example'), 403);
    assert.equal(await getStatus(server.port, 'plant.example'), 426);
    assert.equal(await upgradeStatus(server.port, 'a.b.plant.example:1'), 101);
    assert.equal(await getStatus(server.port, 'evilplant.example'), 403);
    assert.equal(await getStatus(server.port, 'localhost'), 403);
    const all = await startServer({ allowedHosts: 'all' });
    assert.equal(await upgradeStatus(all.port, 'anything.example'), 101);
  });

  it('refuses a request without a Host header unless any host is allowed', async () => {
    const server = await startServer();
    assert.equal(await statusOf(server.port, '/ws', []), 400 /* Node's own answer to HTTP/1.1 without Host */);
    const http10 = tcpConnect({ host: '127.0.0.1', port: server.port });
    onCleanup(() => http10.destroy());
    http10.write('GET /ws HTTP/1.0\r\n\r\n');
    const answer = await within(new Promise<string>((resolve) => http10.once('data', (c) => resolve(c.toString('latin1')))), 5000, 'an answer');
    assert.match(answer, /^HTTP\/1\.1 403/);
  });

  it('applies to the upgrade of attach() on the user’s server', async () => {
    const http = createServer();
    const juggler = await attach(http, { onError: () => {} });
    http.on('request', juggler.app.callback());
    onCleanup(async () => {
      await juggler.close();
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const port = (http.address() as AddressInfo).port;
    assert.equal(await upgradeStatus(port, 'evil.example'), 403);
    assert.equal(await upgradeStatus(port, `localhost:${port}`), 101);
    assert.equal(await getStatus(port, 'evil.example'), 403);
  });

  it('throws InvalidArgumentError for a bad value, naming it', async () => {
    for (const bad of [true, 'any', [''], ['http://x.example'], ['x.example/path'], [1]]) {
      await assert.rejects(listen({ allowedHosts: bad as never }), (err: Error) => err instanceof InvalidArgumentError && /options\.allowedHosts/.test(err.message));
    }
  });

  describe('pieces', () => {
    it('splitHost() and isLoopbackAddress()', () => {
      assert.deepEqual(splitHost('[::1]:80'), { name: '[::1]', port: '80' });
      assert.deepEqual(splitHost('Example.COM.'), { name: 'example.com', port: '' });
      assert.ok(isLoopbackAddress('127.8.0.1') && isLoopbackAddress('::1') && isLoopbackAddress('::ffff:127.0.0.1'));
      assert.ok(!isLoopbackAddress('0.0.0.0') && !isLoopbackAddress('::') && !isLoopbackAddress('10.0.0.1'));
    });

    it('HostPolicy decides the default once the server is bound', () => {
      let address: string | null = null;
      const policy = new HostPolicy(null, () => address);
      assert.equal(policy.allowed, null);
      assert.ok(!policy.allows('evil.example'));
      address = '0.0.0.0';
      assert.equal(policy.allowed, 'all');
    });

    it('HostPolicy answers a repeated Host the same, and anew once the list it was asked for has changed', () => {
      let address: string | null = null;
      const policy = new HostPolicy(null, () => address);
      // Before the server is bound the loopback names are the safe default.
      assert.ok(policy.allows('localhost:8080'));
      assert.ok(!policy.allows('plant.example'));
      assert.ok(!policy.allows('plant.example'));
      assert.ok(policy.allows('localhost:8080'));
      address = '0.0.0.0';
      // Bound to every interface: any Host now, the same names included.
      assert.ok(policy.allows('plant.example'));
      const listed = new HostPolicy(['plant.example', '.site.example'], () => '0.0.0.0');
      const answers = ['plant.example:443', 'evil.example', 'a.site.example', 'evil.example', 'plant.example:443'].map((h) => listed.allows(h));
      assert.deepEqual(answers, [true, false, true, false, true]);
    });
  });
});
