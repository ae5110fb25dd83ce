/**
 * Static files: nothing outside staticDir is ever served (`..` plain,
 * percent-encoded, double-encoded, overlong UTF-8, backslashes, NUL bytes,
 * symlinked files and directories that lead out), and no dotfile or file
 * under a dot-directory is served. Requests go over a raw TCP socket, so
 * the request line reaches the server exactly as written (fetch and URL
 * would normalize most of these away first).
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { onCleanup } from '../support/cleanup.js';
import { startServer } from '../support/server.js';
import { within } from '../support/wait.js';

const OUTSIDE = 'OUTSIDE-' + Math.random().toString(36).slice(2);
const DOTFILE = 'DOTFILE-' + Math.random().toString(36).slice(2);
const SIBLING = 'SIBLING-' + Math.random().toString(36).slice(2);

/** One raw HTTP/1.1 request; resolves with the status and the body. */
async function rawGet(port: number, target: string, method = 'GET', headers = ''): Promise<{ status: number; body: string }> {
  const socket = connect({ host: '127.0.0.1', port });
  const chunks: Buffer[] = [];
  socket.on('data', (c) => chunks.push(c));
  socket.write(Buffer.from(`${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${headers}Connection: close\r\n\r\n`, 'latin1'));
  await within(new Promise((resolve) => socket.on('close', resolve)), 5000, `the answer to ${target}`);
  const text = Buffer.concat(chunks).toString('latin1');
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), body: text.slice(text.indexOf('\r\n\r\n') + 4) };
}

async function tree() {
  const base = await mkdtemp(join(tmpdir(), 'kj-static-'));
  onCleanup(() => rm(base, { recursive: true, force: true }));
  const root = join(base, 'static');
  const outside = join(base, 'outside');
  // A sibling whose name starts with the root's: a naive prefix check would let it through.
  const sibling = join(base, 'static-secret');
  for (const dir of [root, outside, sibling, join(root, 'sub'), join(root, '.git'), join(root, '.well-known'), join(root, 'sub', '.private')]) {
    await mkdir(dir, { recursive: true });
  }
  await writeFile(join(root, 'index.html'), 'index page');
  await writeFile(join(root, 'sub', 'page.html'), 'sub page');
  await writeFile(join(root, '.secret'), DOTFILE);
  await writeFile(join(root, '.git', 'config'), DOTFILE);
  await writeFile(join(root, '.git', 'index.html'), DOTFILE);
  await writeFile(join(root, '.well-known', 'x.txt'), DOTFILE);
  await writeFile(join(root, 'sub', '.hidden'), DOTFILE);
  await writeFile(join(root, 'sub', '.private', 'page.html'), DOTFILE);
  await writeFile(join(outside, 'secret.txt'), OUTSIDE);
  await writeFile(join(outside, 'index.html'), OUTSIDE);
  await writeFile(join(sibling, 'file.txt'), SIBLING);
  await symlink(join(outside, 'secret.txt'), join(root, 'link-file.txt'));
  await symlink(outside, join(root, 'link-dir'));
  await symlink('../../outside', join(root, 'sub', 'relative-link'));
  await symlink(join(root, 'sub'), join(root, 'inside-link'));
  await symlink('..', join(root, 'sub', 'up'));
  await symlink('loop', join(root, 'loop'));
  // Symlinks that koa-send would pick itself: a directory's index.html, and precompressed variants of a real file.
  await mkdir(join(root, 'docs'));
  await symlink(join(outside, 'index.html'), join(root, 'docs', 'index.html'));
  await writeFile(join(root, 'app.js'), 'console.log(1)');
  await symlink(join(outside, 'secret.txt'), join(root, 'app.js.gz'));
  await symlink(join(outside, 'secret.txt'), join(root, 'app.js.br'));
  await writeFile(join(root, 'style.css'), 'body {}');
  await writeFile(join(root, 'style.css.gz'), 'gzipped css');
  return { root, sibling: basename(sibling) };
}

describe('static files: traversal, symlinks, dotfiles', function () {
  this.timeout(20_000);

  it('never serves a file outside staticDir, however the path is spelled', async () => {
    const { root, sibling } = await tree();
    const server = await startServer({ staticDir: root });
    const targets = [
      '/../outside/secret.txt',
      '/..%2foutside%2fsecret.txt',
      '/%2e%2e/outside/secret.txt',
      '/%2E%2E%2Foutside%2Fsecret.txt',
      '/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '/%252e%252e/outside/secret.txt',
      '/%252e%252e%252foutside%252fsecret.txt',
      '/..%5coutside%5csecret.txt',
      '/..\\outside\\secret.txt',
      '/%5c..%5c..%5coutside%5csecret.txt',
      '/..%255coutside%255csecret.txt',
      '/sub/../../outside/secret.txt',
      '/sub/%2e%2e/%2e%2e/outside/secret.txt',
      '/sub/..%2f..%2foutside/secret.txt',
      '/./../outside/secret.txt',
      '/%c0%ae%c0%ae/outside/secret.txt',
      '/..%c0%afoutside%c0%afsecret.txt',
      '/%ef%bc%8e%ef%bc%8e/outside/secret.txt',
      '/..%00/outside/secret.txt',
      '/../outside/secret.txt%00.html',
      '//etc/passwd',
      '/../../../../../../../../etc/passwd',
      '/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
      `/../${sibling}/file.txt`,
      `/..%2f${sibling}%2ffile.txt`,
      '../outside/secret.txt',
      'http://127.0.0.1/../outside/secret.txt',
      '/link-file.txt',
      '/link-dir/secret.txt',
      '/link-dir/',
      '/link-dir/index.html',
      '/sub/relative-link/secret.txt',
      '/sub/up/../../outside/secret.txt',
      '/loop',
      '/loop/x',
    ];
    for (const target of targets) {
      for (const method of ['GET', 'HEAD']) {
        const { status, body } = await rawGet(server.port, target, method);
        assert.notEqual(status, 200, `${method} ${target} answered 200`);
        assert.ok(status >= 400 && status < 500, `${method} ${target} answered ${status}`);
        assert.ok(!body.includes(OUTSIDE) && !body.includes(SIBLING) && !body.includes('root:'), `${method} ${target} leaked a file`);
      }
    }
    // What koa-send picks by itself: a directory's index.html, a precompressed variant of an existing file.
    for (const [target, headers] of [
      ['/docs/', ''],
      ['/docs', ''],
      ['/app.js', 'Accept-Encoding: gzip\r\n'],
      ['/app.js', 'Accept-Encoding: br\r\n'],
    ]) {
      const { status, body } = await rawGet(server.port, target!, 'GET', headers);
      assert.ok(!body.includes(OUTSIDE), `${target} (${headers.trim()}) leaked a file through a symlink`);
      assert.ok(status === 404 || (target === '/app.js' && status === 200 && body === 'console.log(1)'), `${target}: ${status}`);
    }
    assert.deepEqual(server.errors.map((e) => e.err.message), [], 'a refusal is not a server error');
    // The server is fine afterwards, and symlinks that stay inside still work.
    assert.equal((await rawGet(server.port, '/sub/page.html')).body, 'sub page');
    assert.equal((await rawGet(server.port, '/inside-link/page.html')).body, 'sub page');
    assert.equal((await rawGet(server.port, '/sub/up/index.html')).body, 'index page');
    assert.equal((await rawGet(server.port, '/style.css', 'GET', 'Accept-Encoding: gzip\r\n')).body, 'gzipped css');
  });

  it('never serves a dotfile or anything under a dot-directory', async () => {
    const { root } = await tree();
    const server = await startServer({ staticDir: root });
    for (const target of [
      '/.secret',
      '/%2esecret',
      '/%2Esecret',
      '/./.secret',
      '/sub/../.secret',
      '/sub/..%2f.secret',
      '/sub/%2e%2e/.secret',
      '/.git/config',
      '/.git/',
      '/.git/index.html',
      '/%2egit/config',
      '/.git%2fconfig',
      '/.well-known/x.txt',
      '/sub/.hidden',
      '/sub/%2ehidden',
      '/sub/.private/page.html',
      '/inside-link/.hidden',
      '/sub/up/.secret',
    ]) {
      const { status, body } = await rawGet(server.port, target);
      assert.notEqual(status, 200, `${target} answered 200`);
      assert.ok(!body.includes(DOTFILE), `${target} leaked a dotfile`);
    }
  });
});
