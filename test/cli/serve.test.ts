/**
 * `koa-juggler serve`, run for real: `node bin/koa-juggler.js serve ...` as
 * a child process on port 0, checked over HTTP and WebSocket.
 */
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { get as httpsGet } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { makePki } from '../support/cert.js';
import { onCleanup } from '../support/cleanup.js';
import { ensureBuilt, ROOT, runCli } from '../support/cli.js';
import { makeHtpasswd, makeHtpasswdText } from '../support/htpasswd.js';
import { RawClient } from '../support/raw-client.js';

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'koa-juggler-cli-'));
  onCleanup(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const wsUrl = (base: URL, path = '/ws') => `${base.protocol === 'https:' ? 'wss' : 'ws'}://${base.host}${path}`;

describe('koa-juggler serve', function () {
  this.timeout(60_000);
  before(function () {
    this.timeout(120_000);
    ensureBuilt();
  });

  describe('without flags but a free port', () => {
    it('logs one line saying where it listens, serves the demo and sends a non-null state first', async () => {
      const cli = runCli(['serve', '--port', '0']);
      const url = await cli.listening();
      assert.match(url.href, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      assert.notEqual(url.port, '0');

      const root = await fetch(url, { redirect: 'manual' });
      assert.equal(root.status, 302);
      assert.equal(root.headers.get('location'), '/index.html');
      const page = await fetch(new URL('/index.html', url));
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<script type="module" src="plant.js">/);
      const counterPage = await fetch(new URL('/counter.html', url));
      assert.match(await counterPage.text(), /<script type="module" src="dashboard.js">/);
      const chartLibrary = await fetch(new URL('/vendor/uplot.esm.js', url));
      assert.equal(chartLibrary.status, 200);
      assert.match(chartLibrary.headers.get('content-type') ?? '', /javascript/);
      const bundle = await fetch(new URL('/juggler-client.js', url));
      assert.equal(bundle.status, 200);
      assert.match(bundle.headers.get('content-type') ?? '', /javascript/);
      assert.match(await bundle.text(), /export\s*\{[^}]*reconnect/);

      const client = await RawClient.connect(wsUrl(url));
      const first = await client.next(() => true);
      assert.equal(first.type, 'state');
      assert.equal(first.diff.length, 1);
      assert.equal(first.diff[0].op, 'replace');
      assert.equal(first.diff[0].path, '');
      assert.equal(first.diff[0].value.counter, 0);
      assert.equal(first.diff[0].value.clients, 1);
      client.request(1, 'increment');
      assert.deepEqual(await client.response(1), { type: 'response', id: 1, success: true, data: 1 });
      client.close();
      await client.waitClose();

      cli.child.kill('SIGTERM');
      assert.deepEqual(await cli.waitExit(5000), { code: 0, signal: null });
      assert.deepEqual(cli.stdout, [`listening on ${url.href}`]);
      assert.deepEqual(cli.stderr, []);
    });

    it('takes the port from PORT when --port is not given', async () => {
      const cli = runCli(['serve'], { env: { PORT: '0' } });
      const url = await cli.listening();
      assert.notEqual(url.port, '8080');
      cli.child.kill('SIGTERM');
      assert.deepEqual(await cli.waitExit(), { code: 0, signal: null });
    });
  });

  describe('shutdown', () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      it(`drains (closes connections with 1012, clients go elsewhere) and exits 0 promptly on ${signal}`, async () => {
        const cli = runCli(['serve', '--port', '0']);
        const url = await cli.listening();
        const client = await RawClient.connect(wsUrl(url));
        await client.next((m) => m.type === 'state');
        const start = Date.now();
        cli.child.kill(signal);
        assert.equal((await client.waitClose()).code, 1012);
        assert.deepEqual(await cli.waitExit(3000), { code: 0, signal: null });
        assert.ok(Date.now() - start < 1500, `took ${Date.now() - start} ms`);
      });
    }

    it('spreads the closes over --drain-timeout', async () => {
      const cli = runCli(['serve', '--port', '0', '--drain-timeout', '1000']);
      const url = await cli.listening();
      const clients = await Promise.all([0, 1, 2, 3].map(() => RawClient.connect(wsUrl(url))));
      await Promise.all(clients.map((c) => c.next((m) => m.type === 'state')));
      const start = Date.now();
      cli.child.kill('SIGTERM');
      const closedAt = await Promise.all(clients.map((c) => c.waitClose().then(() => Date.now() - start)));
      closedAt.sort((a, b) => a - b);
      assert.ok(closedAt[3]! - closedAt[0]! >= 500, `closed at ${closedAt} ms`);
      assert.deepEqual(await cli.waitExit(5000), { code: 0, signal: null });
    });

    it('logs JSON lines with --log-format json', async () => {
      const cli = runCli(['serve', '--port', '0', '--log-format', 'json']);
      const url = await cli.listening();
      cli.child.kill('SIGTERM');
      assert.deepEqual(await cli.waitExit(5000), { code: 0, signal: null });
      const lines = cli.stdout.map((line) => JSON.parse(line) as Record<string, unknown>);
      assert.equal(lines[0]!.msg, `listening on ${url.href}`);
      assert.equal(lines[0]!.url, url.href);
      assert.equal(lines[0]!.level, 30);
      assert.equal(typeof lines[0]!.time, 'number');
      assert.equal(lines[1]!.msg, 'draining');
      assert.deepEqual(cli.stderr, []);
    });
  });

  describe('flags', () => {
    it('serves the directory given as argument, with --ws-path and --index off', async () => {
      const dir = await tempDir();
      await writeFile(join(dir, 'hello.html'), '<p>hello from a user directory</p>');
      const cli = runCli(['serve', dir, '--port', '0', '--ws-path', '/live', '--index', 'off', '--autoflush', '0']);
      const url = await cli.listening();
      assert.equal((await fetch(new URL('/hello.html', url))).status, 200);
      assert.equal(await (await fetch(new URL('/hello.html', url))).text(), '<p>hello from a user directory</p>');
      assert.equal((await fetch(url, { redirect: 'manual' })).status, 404);
      assert.deepEqual(await (await fetch(new URL('/demo-config.json', url))).json(), {
        wsPath: '/live',
        version: JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version,
      });
      const client = await RawClient.connect(wsUrl(url, '/live'));
      assert.equal((await client.next(() => true)).type, 'state');
    });

    it('serves the directory given with --static', async () => {
      const dir = await tempDir();
      await writeFile(join(dir, 'index.html'), 'mine');
      const cli = runCli(['serve', '--static', dir, '--port', '0']);
      const url = await cli.listening();
      assert.equal(await (await fetch(url)).text(), 'mine');
    });

    it('asks for credentials with --htpasswd, on pages and on the WebSocket', async () => {
      const file = await makeHtpasswd([{ user: 'demo', password: 's3cret', format: 'bcrypt' }]);
      onCleanup(() => file.cleanup());
      const cli = runCli(['serve', '--port', '0', '--htpasswd', file.path]);
      const url = await cli.listening();
      const refused = await fetch(new URL('/index.html', url));
      assert.equal(refused.status, 401);
      assert.match(refused.headers.get('www-authenticate') ?? '', /^Basic realm=/);
      const authorization = 'Basic ' + Buffer.from('demo:s3cret').toString('base64');
      assert.equal((await fetch(new URL('/index.html', url), { headers: { authorization } })).status, 200);
      await assert.rejects(RawClient.connect(wsUrl(url)), { status: 401 });
      const client = await RawClient.connect(wsUrl(url), { headers: { authorization } });
      assert.equal((await client.next(() => true)).type, 'state');
    });

    it('serves https and wss with --tls-key and --tls-cert', async () => {
      const pki = await makePki();
      const dir = await tempDir();
      await writeFile(join(dir, 'key.pem'), pki.key);
      await writeFile(join(dir, 'cert.pem'), pki.cert);
      const cli = runCli(['serve', '--port', '0', '--tls-key', join(dir, 'key.pem'), '--tls-cert', join(dir, 'cert.pem')]);
      const url = await cli.listening();
      assert.equal(url.protocol, 'https:');
      const status = await new Promise<number | undefined>((resolve, reject) => {
        httpsGet(new URL('/index.html', url), { ca: pki.ca }, (res) => {
          res.resume();
          resolve(res.statusCode);
        }).on('error', reject);
      });
      assert.equal(status, 200);
      const client = await RawClient.connect(wsUrl(url), { ca: pki.ca });
      assert.equal((await client.next(() => true)).type, 'state');
    });
  });

  describe('--help and --version', () => {
    it('explains every flag', async () => {
      const cli = runCli(['serve', '--help']);
      assert.deepEqual(await cli.waitExit(), { code: 0, signal: null });
      const help = cli.stdout.join('\n');
      const flags = [
        '--host', '--port', '--static', '--htpasswd', '--tls-key', '--tls-cert', '--autoflush', '--ws-path', '--index',
        '--parallel', '--cache', '--allow-origin', '--framing', '--ping-delay', '--ping-timeout', '--shutdown-timeout',
        '--max-connections', '--help', '--version',
      ];
      for (const flag of flags) assert.match(help, new RegExp(`^\\s+(-\\w, )?${flag}\\b.*\\S`, 'm'), `--help explains ${flag}`);
      assert.match(help, /^Usage: koa-juggler serve \[DIR\]/);
      assert.match(help, /PORT/);
      assert.deepEqual(cli.stderr, []);
    });

    it('prints the same help for "koa-juggler --help"', async () => {
      const a = runCli(['--help']);
      const b = runCli(['serve', '-h']);
      await Promise.all([a.waitExit(), b.waitExit()]);
      assert.deepEqual(a.stdout, b.stdout);
    });

    it('prints the version', async () => {
      const cli = runCli(['--version']);
      assert.deepEqual(await cli.waitExit(), { code: 0, signal: null });
      assert.deepEqual(cli.stdout, [JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version]);
    });
  });

  describe('mistakes', () => {
    const cases: { args: string[]; env?: Record<string, string>; message: RegExp }[] = [
      { args: ['serve', '--bogus'], message: /^koa-juggler: unknown flag --bogus/ },
      { args: ['serve', '--port', 'abc'], message: /^koa-juggler: --port: expected an integer from 0 to 65535, got "abc"$/ },
      { args: ['serve', '--port', '70000'], message: /^koa-juggler: --port: / },
      { args: ['serve', '--port'], message: /^koa-juggler: --port needs a value$/ },
      { args: ['serve'], env: { PORT: 'eighty' }, message: /^koa-juggler: PORT \(environment\): expected an integer/ },
      { args: ['serve', '--autoflush', 'soon'], message: /^koa-juggler: --autoflush: expected an integer/ },
      { args: ['serve', '--ping-delay', '0'], message: /^koa-juggler: --ping-delay: expected an integer from 1/ },
      { args: ['serve', '--ws-path', 'ws'], message: /^koa-juggler: --ws-path: expected a URL path/ },
      { args: ['serve', '--framing', 'chunked'], message: /^koa-juggler: --framing: / },
      { args: ['serve', '--allow-origin', 'example.com'], message: /^koa-juggler: --allow-origin: / },
      { args: ['serve', '--parallel=yes'], message: /^koa-juggler: --parallel takes no value$/ },
      { args: ['serve', '--tls-key', 'key.pem'], message: /^koa-juggler: --tls-key needs --tls-cert as well$/ },
      { args: ['serve', '--tls-cert', 'cert.pem'], message: /^koa-juggler: --tls-cert needs --tls-key as well$/ },
      { args: ['serve', 'a', 'b'], message: /^koa-juggler: unexpected argument "b"/ },
      { args: ['serve', 'static', '--static', 'static'], message: /^koa-juggler: --static and the directory argument/ },
      { args: ['serve', '/no/such/dir'], message: /^koa-juggler: the directory argument: cannot read "\/no\/such\/dir": no such directory$/ },
      { args: ['serve', '--static', 'package.json'], message: /^koa-juggler: --static: "package.json" is not a directory$/ },
      { args: ['serve', '--tls-key', '/no/key.pem', '--tls-cert', '/no/cert.pem'], message: /^koa-juggler: --tls-(key|cert): cannot read "\/no\/(key|cert).pem": no such file$/ },
      { args: ['frobnicate'], message: /^koa-juggler: unknown command "frobnicate"/ },
      { args: [], message: /^koa-juggler: missing command/ },
    ];
    for (const { args, env, message } of cases) {
      it(`exits 2 with one line on stderr for: ${args.join(' ') || '(nothing)'}${env ? ` with ${JSON.stringify(env)}` : ''}`, async () => {
        const cli = runCli(args, { env });
        assert.deepEqual(await cli.waitExit(), { code: 2, signal: null });
        assert.equal(cli.stderr.length, 1, cli.stderr.join('\n'));
        assert.match(cli.stderr[0], message);
        assert.deepEqual(cli.stdout, []);
      });
    }

    it('names --htpasswd when the file is missing, a directory or malformed', async () => {
      const dir = await tempDir();
      await mkdir(join(dir, 'sub'));
      const malformed = await makeHtpasswdText('demo-without-a-hash\n');
      onCleanup(() => malformed.cleanup());
      const expectations: [string, RegExp][] = [
        [join(dir, 'missing'), /^koa-juggler: --htpasswd: cannot read ".*missing": no such file$/],
        [join(dir, 'sub'), /^koa-juggler: --htpasswd: ".*sub" is not a file$/],
        [malformed.path, /^koa-juggler: --htpasswd: .*line 1/],
      ];
      for (const [path, message] of expectations) {
        const cli = runCli(['serve', '--port', '0', '--htpasswd', path]);
        assert.deepEqual(await cli.waitExit(), { code: 2, signal: null }, path);
        assert.equal(cli.stderr.length, 1, cli.stderr.join('\n'));
        assert.match(cli.stderr[0], message);
        assert.deepEqual(cli.stdout, []);
      }
    });

    it('names the TLS flags when the files are not a key and a certificate', async () => {
      const dir = await tempDir();
      await writeFile(join(dir, 'junk.pem'), 'not a pem\n');
      const cli = runCli(['serve', '--port', '0', '--tls-key', join(dir, 'junk.pem'), '--tls-cert', join(dir, 'junk.pem')]);
      assert.deepEqual(await cli.waitExit(), { code: 2, signal: null });
      assert.equal(cli.stderr.length, 1, cli.stderr.join('\n'));
      assert.match(cli.stderr[0], /^koa-juggler: --tls-key\/--tls-cert: not a usable key and certificate/);
    });

    it('exits 1 saying so when the port is taken', async () => {
      const blocker = createServer();
      await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
      onCleanup(() => new Promise((resolve) => blocker.close(resolve)));
      const port = (blocker.address() as { port: number }).port;
      const cli = runCli(['serve', '--port', String(port)]);
      assert.deepEqual(await cli.waitExit(), { code: 1, signal: null });
      assert.deepEqual(cli.stderr, [`koa-juggler: cannot listen on 127.0.0.1:${port}: the address is already in use (try --port)`]);
    });
  });
});
