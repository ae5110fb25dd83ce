/**
 * `koa-juggler serve DIR --app FILE`: the app module's exports checked by
 * loadApp(), and the real command serving a temp app module.
 */
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppModuleError, appFactory, loadApp } from '../../src/cli/app-module.js';
import { startApp } from '../../src/cli/start-app.js';
import { onCleanup } from '../support/cleanup.js';
import { ensureBuilt, runCli } from '../support/cli.js';
import { RawClient } from '../support/raw-client.js';

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'koa-juggler-app-'));
  onCleanup(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function module(source: string, name = 'app.mjs'): Promise<string> {
  const file = join(await tempDir(), name);
  await writeFile(file, source);
  return file;
}

const NAMED_APP = `
export const state = { hits: 0 };
export function onRequest(conn, name, data) {
  if (name !== 'hit') throw new Error('unknown request ' + name);
  conn.state.set('hits', conn.state.get('hits') + 1);
  return { hits: conn.state.get('hits'), data };
}
`;

const FACTORY_APP = `
export default async function app({ options }) {
  return {
    state: { port: options.port ?? null, started: false },
    onConnection(conn) { conn.data.greeted = true; },
    onRequest(conn) { return conn.data.greeted === true; },
    start() { return () => { globalThis.__appStopped = true; }; },
  };
}
`;

describe('app modules (--app)', () => {
  describe('loadApp()', () => {
    it('takes named exports and wraps a JSON state in a shared Storage', async () => {
      const app = await startApp(await loadApp(await module(NAMED_APP)), { host: '127.0.0.1', port: 0, onError: () => {} });
      onCleanup(() => app.close());
      const a = await RawClient.connect(`ws://127.0.0.1:${app.port}/ws`);
      const b = await RawClient.connect(`ws://127.0.0.1:${app.port}/ws`);
      a.request(1, 'hit', 'x');
      assert.deepEqual((await a.response(1)).data, { hits: 1, data: 'x' });
      b.request(1, 'hit');
      assert.deepEqual((await b.response(1)).data, { hits: 2, data: null });
      assert.deepEqual(app.state?.data, { hits: 2 });
    });

    it('calls a default function with the options, runs start once listening and its stop on close', async () => {
      const app = await startApp(await loadApp(await module(FACTORY_APP)), { host: '127.0.0.1', port: 0, onError: () => {} });
      assert.deepEqual(app.state?.data, { port: 0, started: false });
      const client = await RawClient.connect(`ws://127.0.0.1:${app.port}/ws`);
      client.request(1, 'greeted?');
      assert.equal((await client.response(1)).data, true);
      await app.close();
      assert.equal((globalThis as { __appStopped?: boolean }).__appStopped, true);
      delete (globalThis as { __appStopped?: boolean }).__appStopped;
    });

    it('fails with one line naming the file for a missing file, a directory, a throw at import, and bad exports', async () => {
      const dir = await tempDir();
      await mkdir(join(dir, 'sub'));
      const cases: [string, RegExp][] = [
        [join(dir, 'missing.mjs'), /^--app: cannot read ".*missing\.mjs": no such file$/],
        [join(dir, 'sub'), /^--app: ".*sub" is not a file$/],
        [await module(`throw new Error('boom at import');`), /^--app: ".*app\.mjs" threw while loading: Error: boom at import$/],
        [await module(`export const onReqest = () => 1;`), /exports unknown "onReqest" \(known: onConnection, onRequest,/],
        [await module(`export const onRequest = 42;`), /"onRequest" must be a function, got number/],
        [await module(`export const middleware = () => {};`), /"middleware" must be an array/],
        [await module(`export default 1;`), /default export of ".*" must be an object/],
        [await module(`export default {}; export const state = 1;`), /has a default export and named exports \(state\)/],
        [await module(``), /exports nothing/],
        [await module(`syntax error here(`), /threw while loading: SyntaxError/],
      ];
      for (const [file, message] of cases) {
        await assert.rejects(
          async () => { await (await loadApp(file))({ options: {} }); },
          (err: Error) => err instanceof AppModuleError && message.test(err.message) && !err.message.includes('\n'),
          file,
        );
      }
    });

    it('reports a default function that throws or returns an unknown name', async () => {
      const throws = appFactory({ default: () => { throw new Error('no config'); } }, 'app.mjs');
      await assert.rejects(startApp(throws, { port: 0 }), /^AppModuleError: --app: the default export threw: Error: no config$/);
      const unknown = appFactory({ default: () => ({ onRequset() {} }) }, 'app.mjs');
      await assert.rejects(startApp(unknown, { port: 0 }), /exports unknown "onRequset"/);
    });
  });

  describe('koa-juggler serve DIR --app FILE', function () {
    this.timeout(60_000);
    before(function () {
      this.timeout(120_000);
      ensureBuilt();
    });

    it('serves the directory with the app as its backend', async () => {
      const dir = await tempDir();
      await writeFile(join(dir, 'index.html'), '<!doctype html><title>mine</title>');
      const app = await module(NAMED_APP);
      const cli = runCli(['serve', dir, '--app', app, '--port', '0']);
      const url = await cli.listening();
      assert.match(await (await fetch(new URL('/index.html', url))).text(), /<title>mine<\/title>/);
      const client = await RawClient.connect(`ws://${url.host}/ws`);
      const first = await client.next((m) => m.type === 'state');
      assert.deepEqual(first.diff[0].value, { hits: 0 });
      client.request(1, 'hit');
      assert.deepEqual((await client.response(1)).data, { hits: 1, data: null });
      client.request(2, 'nope');
      assert.equal((await client.response(2)).success, false);
      cli.child.kill('SIGTERM');
      assert.deepEqual(await cli.waitExit(), { code: 0, signal: null });
    });

    it('exits 2 with one line on stderr for an app module that cannot be used', async () => {
      const dir = await tempDir();
      const cases: [string, RegExp][] = [
        [join(dir, 'missing.mjs'), /^koa-juggler: --app: cannot read ".*missing\.mjs": no such file$/],
        [await module(`throw new Error('boom');`), /^koa-juggler: --app: ".*" threw while loading: Error: boom$/],
        [await module(`export function onRequst() {}`), /^koa-juggler: --app: ".*" exports unknown "onRequst"/],
      ];
      for (const [file, message] of cases) {
        const cli = runCli(['serve', dir, '--app', file, '--port', '0']);
        assert.deepEqual(await cli.waitExit(), { code: 2, signal: null }, file);
        assert.equal(cli.stderr.length, 1, cli.stderr.join('\n'));
        assert.match(cli.stderr[0], message);
        assert.deepEqual(cli.stdout, []);
      }
    });
  });
});
