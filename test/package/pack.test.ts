import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliProcess, ROOT } from '../support/cli.js';
import { installedPackage, npm, type InstalledPackage } from '../support/packed-package.js';

/**
 * Run in the scratch project with plain node (no tsx): the server and the
 * client from the installed package, a request, the state diff it causes,
 * and the browser bundle over HTTP. Prints one JSON line.
 */
const CHECK = `
import { listen, Storage } from 'koa-juggler';
import { connect, ConnectError } from 'koa-juggler/client';

const state = new Storage({ count: 0 });
const server = await listen({
  host: '127.0.0.1',
  port: 0,
  state,
  onRequest(conn, name, data) {
    state.set(['count'], state.get(['count']) + data.by);
    return 'ok';
  },
});
const client = await connect('ws://127.0.0.1:' + server.port + '/ws');
const diffs = [];
const changed = new Promise((resolve) => client.onChange((value, diff) => {
  diffs.push(diff);
  if (value.count === 5) resolve(value);
}));
const answer = await client.send('add', { by: 5 });
const final = await changed;
const bundle = await fetch('http://127.0.0.1:' + server.port + '/juggler-client.js');
const code = await bundle.text();
client.close();
await client.closed;
await server.close();
console.log(JSON.stringify({
  answer, final, diffs,
  bundle: { status: bundle.status, type: bundle.headers.get('content-type'), encoding: bundle.headers.get('content-encoding'), hasExport: /export\\s*\\{/.test(code) },
  connectError: typeof ConnectError,
  resolved: { server: import.meta.resolve('koa-juggler'), client: import.meta.resolve('koa-juggler/client') },
  execArgv: process.execArgv, nodeOptions: process.env.NODE_OPTIONS ?? '',
}));
`;

describe('the package (npm pack, installed into a scratch project)', function () {
  this.timeout(120_000);
  let pkg: InstalledPackage;
  before(async function () {
    this.timeout(180_000);
    pkg = await installedPackage();
  });

  it('holds the compiled code, types, browser bundle, bin, demo, LICENSE and README, and nothing only the repo needs', async () => {
    const dryRun = JSON.parse(await npm(['pack', '--dry-run', '--json', '--ignore-scripts'], ROOT)) as { files: { path: string }[] }[];
    const listed = dryRun[0]!.files.map((f) => f.path).sort();
    assert.deepEqual(pkg.files.map((f) => f.path).sort(), listed);
    for (const file of [
      'package.json',
      'README.md',
      'LICENSE',
      'bin/koa-juggler.js',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/client/index.js',
      'dist/client/index.d.ts',
      'dist/client/browser.js',
      'dist/client/browser.d.ts',
      'dist/cli/main.js',
      'dist/browser/juggler-client.js',
      'dist/browser/juggler-client.js.map',
      'dist/browser/juggler-client.js.br',
      'dist/browser/juggler-client.js.gz',
      'static/index.html',
      'static/plant.js',
      'static/counter.html',
      'htpasswd.example',
    ]) {
      assert.ok(listed.includes(file), `${file} is in the package`);
    }
    const unwanted = listed.filter((path) => /^(test|bench|src|docs|scripts|examples|node_modules|\.ci)\//.test(path) || /(^|\/)\.|\.test\.|tsconfig/.test(path));
    assert.deepEqual(unwanted, []);
    assert.match(readFileSync(join(ROOT, 'LICENSE'), 'utf8'), /Apache License\s+Version 2\.0, January 2004/);
    // Every file package.json points at is in the package.
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: unknown; bin: Record<string, string>; main: string; types: string };
    const targets = new Set<string>([manifest.main, manifest.types, ...Object.values(manifest.bin)]);
    const walk = (node: unknown): void => {
      if (typeof node === 'string') targets.add(node);
      else if (node !== null && typeof node === 'object') Object.values(node).forEach(walk);
    };
    walk(manifest.exports);
    for (const target of targets) assert.ok(listed.includes(target.replace(/^\.\//, '')), `${target} (named by package.json) is in the package`);
  });

  it('works from plain node: server, client, a request, its state diff, and /juggler-client.js', async () => {
    writeFileSync(join(pkg.dir, 'check.mjs'), CHECK);
    const run = new CliProcess([], { script: join(pkg.dir, 'check.mjs'), cwd: pkg.dir, env: { NODE_OPTIONS: undefined } });
    const exit = await run.waitExit(30_000);
    assert.equal(exit.code, 0, run.stderr.join('\n'));
    const result = JSON.parse(run.stdout.at(-1)!);
    assert.deepEqual(result.execArgv, []);
    assert.equal(result.nodeOptions, '');
    assert.equal(result.answer, 'ok');
    assert.deepEqual(result.final, { count: 5 });
    assert.deepEqual(result.diffs.at(-1), [{ op: 'replace', path: '/count', value: 5 }]);
    assert.equal(result.bundle.status, 200);
    assert.match(result.bundle.type, /javascript/);
    assert.ok(result.bundle.hasExport);
    assert.equal(result.connectError, 'function');
    const installed = join(pkg.dir, 'node_modules', 'koa-juggler');
    assert.equal(result.resolved.server, 'file://' + join(installed, 'dist', 'index.js'));
    assert.equal(result.resolved.client, 'file://' + join(installed, 'dist', 'client', 'index.js'));
  });

  it('runs its koa-juggler bin until it listens', async () => {
    const bin = join(pkg.dir, 'node_modules', '.bin', 'koa-juggler');
    assert.ok(existsSync(bin), 'npm linked the bin');
    const cli = new CliProcess(['serve', '--port', '0'], { script: bin, cwd: pkg.dir, env: { NODE_OPTIONS: undefined, PORT: undefined } });
    const url = await cli.listening(20_000);
    assert.equal(url.hostname, '127.0.0.1');
    assert.notEqual(url.port, '0');
    const page = await fetch(new URL('/index.html', url));
    assert.equal(page.status, 200);
    // The demo's chart library comes from the installed dependency.
    assert.equal((await fetch(new URL('/vendor/uplot.esm.js', url))).status, 200);
    cli.child.kill('SIGTERM');
    await cli.waitExit();
  });

  it('runs examples/hello against the installed package', async () => {
    for (const file of ['server.mjs', 'client.mjs']) copyFileSync(join(ROOT, 'examples', 'hello', file), join(pkg.dir, file));
    const server = new CliProcess([], { script: join(pkg.dir, 'server.mjs'), cwd: pkg.dir, env: { NODE_OPTIONS: undefined, PORT: '0' } });
    const url = await server.listening(20_000);
    const client = new CliProcess([`ws://${url.host}/ws`], { script: join(pkg.dir, 'client.mjs'), cwd: pkg.dir, env: { NODE_OPTIONS: undefined } });
    const exit = await client.waitExit(20_000);
    assert.equal(exit.code, 0, client.stderr.join('\n'));
    assert.deepEqual(client.stdout, ['state {"count":0}', 'answer 2', 'state {"count":2}']);
    server.child.kill('SIGTERM');
    assert.equal((await server.waitExit()).code, 0);
  });
  it('type-checks examples/typed against the installed types, then runs it', async () => {
    const dir = join(pkg.dir, 'typed');
    mkdirSync(dir, { recursive: true });
    for (const file of ['api.ts', 'server.ts', 'client.ts', 'tsconfig.json']) copyFileSync(join(ROOT, 'examples', 'typed', file), join(dir, file));
    // The repository's tsc, but 'koa-juggler' resolves to the installed package's .d.ts files.
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const typeRoots = join(ROOT, 'node_modules', '@types'); // for @types/node, which a Node project has
    // The cluster entry's types too (redis brings its own).
    writeFileSync(join(dir, 'entries.ts'), "import * as cluster from 'koa-juggler/cluster';\nexport const entries = [cluster.redisCluster];\n");
    // Our .d.ts files checked too: every module they import must have types in the install itself
    // (koa's and ws's come with us as dependencies), or a project without skipLibCheck fails.
    const strict = spawnSync(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json'), '--typeRoots', typeRoots, '--skipLibCheck', 'false', '--noEmit'], { cwd: dir, encoding: 'utf8' });
    assert.equal(strict.status, 0, strict.stdout + strict.stderr);
    execFileSync(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json'), '--typeRoots', typeRoots], { cwd: dir, stdio: 'pipe' });
    const server = new CliProcess([], { script: join(dir, 'out', 'server.js'), cwd: dir, env: { NODE_OPTIONS: undefined, PORT: '0' } });
    const url = await server.listening(20_000);
    const client = new CliProcess([`ws://${url.host}/ws`], { script: join(dir, 'out', 'client.js'), cwd: dir, env: { NODE_OPTIONS: undefined } });
    const exit = await client.waitExit(20_000);
    assert.equal(exit.code, 0, client.stderr.join('\n'));
    assert.deepEqual(client.stdout, [
      'answer 3200 true',
      'alarm p1: 3200 rpm is too fast',
      'state {"p1":{"rpm":3200,"on":true}}',
      'stop null',
      'state {"p1":{"rpm":0,"on":false}}',
    ]);
    server.child.kill('SIGTERM');
    assert.equal((await server.waitExit()).code, 0);
  });
});
