import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makePki } from '../support/cert.js';
import { onCleanup } from '../support/cleanup.js';
import { makeHtpasswd } from '../support/htpasswd.js';
import { RawClient } from '../support/raw-client.js';
import { startServer } from '../support/server.js';
import { within } from '../support/wait.js';
import { remoteAddress } from '../../src/server/remote.js';

async function staticDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kj-static-'));
  onCleanup(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'index.html'), '<h1>dashboard</h1>');
  await writeFile(join(dir, 'app.js'), 'console.log(1)');
  await writeFile(join(dir, '.secret'), 'hidden');
  await mkdir(join(dir, 'sub'));
  await writeFile(join(dir, 'sub', 'page.html'), 'sub page');
  return dir;
}

const basic = (user: string, password: string) => 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
const base = (server: { port: number }) => `http://127.0.0.1:${server.port}`;

describe('HTTP', () => {
  it('serves static files and redirects / to indexPath', async () => {
    const server = await startServer({ staticDir: await staticDir() });
    const index = await fetch(base(server) + '/', { redirect: 'manual' });
    assert.equal(index.status, 302);
    assert.equal(index.headers.get('location'), '/index.html');
    const page = await fetch(base(server) + '/index.html');
    assert.equal(page.status, 200);
    assert.equal(await page.text(), '<h1>dashboard</h1>');
    assert.equal(page.headers.get('cache-control'), 'no-cache');
    assert.equal((await fetch(base(server) + '/sub/page.html').then((r) => r.text())), 'sub page');
    assert.equal((await fetch(base(server) + '/missing.html')).status, 404);
  });

  it('redirects / to a custom indexPath, and not at all with null', async () => {
    const custom = await startServer({ indexPath: '/app/main.html' });
    assert.equal((await fetch(base(custom) + '/', { redirect: 'manual' })).headers.get('location'), '/app/main.html');
    const off = await startServer({ indexPath: null });
    assert.equal((await fetch(base(off) + '/', { redirect: 'manual' })).status, 404);
  });

  it('never serves dotfiles or files outside staticDir', async () => {
    const dir = await staticDir();
    const outside = await mkdtemp(join(tmpdir(), 'kj-outside-'));
    onCleanup(() => rm(outside, { recursive: true, force: true }));
    await writeFile(join(outside, 'passwords.txt'), 'top secret');
    await symlink(join(outside, 'passwords.txt'), join(dir, 'link.txt'));
    const server = await startServer({ staticDir: dir });
    for (const path of ['/.secret', '/../' + 'etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/sub/..%2f..%2fetc%2fpasswd', '/link.txt']) {
      const res = await fetch(base(server) + path);
      const text = await res.text();
      assert.notEqual(res.status, 200, `${path} was served`);
      assert.ok(!text.includes('secret') && !text.includes('root:'), `${path} leaked`);
    }
  });

  it('sets no Cache-Control with noCache: false', async () => {
    const server = await startServer({ staticDir: await staticDir(), noCache: false });
    const res = await fetch(base(server) + '/app.js');
    assert.notEqual(res.headers.get('cache-control'), 'no-cache');
  });

  it('mounts user middleware before static files', async () => {
    const server = await startServer({
      staticDir: await staticDir(),
      middleware: [
        async (ctx, next) => {
          if (ctx.path === '/api/time') ctx.body = { now: 1 };
          else await next();
        },
      ],
    });
    assert.deepEqual(await fetch(base(server) + '/api/time').then((r) => r.json()), { now: 1 });
    assert.equal(await fetch(base(server) + '/app.js').then((r) => r.text()), 'console.log(1)');
  });

  it('answers a plain GET of the WebSocket path with 426', async () => {
    const server = await startServer({});
    assert.equal((await fetch(base(server) + '/ws')).status, 426);
  });

  it('serves the browser client bundle', async () => {
    const server = await startServer({});
    const res = await fetch(base(server) + '/juggler-client.js');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /javascript/);
    assert.match(await res.text(), /export\s*\{/);
    const off = await startServer({ clientBundle: false });
    assert.equal((await fetch(base(off) + '/juggler-client.js')).status, 404);
  });

  describe('htpasswd', () => {
    async function authServer() {
      const file = await makeHtpasswd([
        { user: 'alice', password: 'wonderland', format: 'bcrypt' },
        { user: 'bob', password: 'builder', format: 'apr1' },
        { user: 'carol', password: 'singer', format: 'sha' },
      ]);
      onCleanup(() => file.cleanup());
      return startServer({ htpasswdFile: file.path, staticDir: await staticDir(), onRequest: (conn) => conn.user });
    }

    it('guards every route with Basic auth', async () => {
      const server = await authServer();
      const none = await fetch(base(server) + '/index.html');
      assert.equal(none.status, 401);
      assert.match(none.headers.get('www-authenticate') ?? '', /^Basic realm="/);
      assert.equal((await fetch(base(server) + '/index.html', { headers: { authorization: basic('alice', 'nope') } })).status, 401);
      assert.equal((await fetch(base(server) + '/index.html', { headers: { authorization: basic('mallory', 'x') } })).status, 401);
      for (const [user, password] of [['alice', 'wonderland'], ['bob', 'builder'], ['carol', 'singer']]) {
        const res = await fetch(base(server) + '/index.html', { headers: { authorization: basic(user!, password!) } });
        assert.equal(res.status, 200, user);
      }
    });

    it('refuses the upgrade with 401 and a challenge before upgrading', async () => {
      const server = await authServer();
      await assert.rejects(RawClient.connect(server.url), (err: { status?: number; headers?: Record<string, string> }) => {
        assert.equal(err.status, 401);
        assert.match(err.headers?.['www-authenticate'] ?? '', /Basic/);
        return true;
      });
      await assert.rejects(RawClient.connect(server.url, { headers: { authorization: basic('bob', 'wrong') } }), { status: 401 });
      assert.equal([...server.connections].length, 0);
    });

    it('lets a user with the right password connect, as conn.user', async () => {
      const server = await authServer();
      const client = await RawClient.connect(server.url, { headers: { authorization: basic('bob', 'builder') } });
      client.request(1, 'who');
      assert.equal((await client.response(1)).data, 'bob');
    });

    it('refuses to start with a file in an unknown format, naming the line', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'kj-htpasswd-'));
      onCleanup(() => rm(dir, { recursive: true, force: true }));
      await writeFile(join(dir, 'htpasswd'), '# users\nalice:$apr1$abcdefgh$0123456789012345678901\nbob:plaintext\n');
      await assert.rejects(startServer({ htpasswdFile: join(dir, 'htpasswd') }), /line 3/);
    });
  });

  it('authenticates with a custom authenticate() on routes and the upgrade', async () => {
    const server = await startServer({
      authenticate: (req) => (req.headers['x-token'] === 'secret' ? 'token-user' : null),
      onRequest: (conn) => conn.user,
    });
    assert.equal((await fetch(base(server) + '/ws')).status, 401);
    await assert.rejects(RawClient.connect(server.url), { status: 401 });
    const client = await RawClient.connect(server.url, { headers: { 'x-token': 'secret' } });
    client.request(1, 'who');
    assert.equal((await client.response(1)).data, 'token-user');
  });

  it('serves https and wss on one port with the tls option', async () => {
    const pki = await makePki();
    const server = await startServer({ tls: { key: pki.key, cert: pki.cert }, onRequest: () => 'secure' });
    const status = await new Promise<number>((resolve, reject) => {
      httpsRequest({ host: '127.0.0.1', port: server.port, path: '/ws', ca: pki.ca }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject).end();
    });
    assert.equal(status, 426);
    const client = await RawClient.connect(server.url, { ca: pki.ca });
    client.request(1, 'x');
    assert.equal((await client.response(1)).data, 'secure');
  });

  describe('conn.remote', () => {
    async function remoteOf(headers: Record<string, string>, trustProxy?: boolean): Promise<string> {
      const server = await startServer({ trustProxy, onRequest: (conn) => conn.remote });
      const client = await RawClient.connect(server.url, { headers });
      client.request(1, 'remote');
      return (await client.response(1)).data;
    }

    it('takes the for= of the last Forwarded element', async () => {
      assert.equal(await remoteOf({ forwarded: 'for=1.1.1.1, for="[2001:db8::1]:4711";proto=https' }), '[2001:db8::1]:4711');
      assert.equal(await remoteOf({ forwarded: 'for=1.1.1.1;by=x, proto=http;For=9.9.9.9' }), '9.9.9.9');
    });

    it('takes the last X-Forwarded-For entry', async () => {
      assert.equal(await remoteOf({ 'x-forwarded-for': '6.6.6.6, 10.0.0.1,  10.0.0.2 ' }), '10.0.0.2');
    });

    it('takes the socket address without proxy headers or with trustProxy: false', async () => {
      assert.equal(await remoteOf({}), '127.0.0.1');
      assert.equal(await remoteOf({ 'x-forwarded-for': '6.6.6.6' }, false), '127.0.0.1');
    });

    it('reads the socket address only when no trusted header answers', () => {
      let reads = 0;
      const req = (headers: Record<string, string>) => ({
        headers,
        rawHeaders: Object.entries(headers).flat(),
        socket: {
          get remoteAddress() {
            reads++;
            return '127.0.0.1';
          },
        },
      });
      assert.equal(remoteAddress(req({ 'x-forwarded-for': '6.6.6.6' }) as never, true), '6.6.6.6');
      assert.equal(remoteAddress(req({ forwarded: 'for=7.7.7.7' }) as never, true), '7.7.7.7');
      assert.equal(reads, 0);
      assert.equal(remoteAddress(req({ forwarded: 'proto=https' }) as never, true), '127.0.0.1');
      assert.equal(remoteAddress(req({ 'x-forwarded-for': '6.6.6.6' }) as never, false), '127.0.0.1');
      assert.equal(remoteAddress(req({}) as never, true), '127.0.0.1');
      assert.equal(reads, 3);
    });

    it('stays right once the connection has closed', async () => {
      const server = await startServer();
      const client = await RawClient.connect(server.url);
      const conn = [...server.connections][0]!;
      client.ws.close();
      await within(conn.closed, 2000, 'conn.closed');
      assert.equal(conn.remote, '127.0.0.1');
    });
  });
});

describe('conn.request', () => {
  it('keeps the upgrade URL and headers, without the credentials', async () => {
    const file = await makeHtpasswd([{ user: 'dora', password: 'explorer', format: 'sha' }]);
    onCleanup(() => file.cleanup());
    const server = await startServer({
      htpasswdFile: file.path,
      onRequest: (conn) => ({ url: conn.request.url, headers: conn.request.headers }) as never,
    });
    const client = await RawClient.connect(server.url + '?view=plant', {
      headers: { authorization: basic('dora', 'explorer'), 'x-station': 'north' },
    });
    client.request(1, 'request');
    const { data } = await client.response(1);
    assert.equal(data.url, '/ws?view=plant');
    assert.equal(data.headers['x-station'], 'north');
    assert.equal(data.headers.authorization, undefined);
  });
});
