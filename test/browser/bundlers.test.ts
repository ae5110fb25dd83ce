/**
 * `koa-juggler/client` in a web app, as a user builds one: a page that
 * imports it from the packed and installed package, bundled by esbuild
 * (`platform: 'browser'`) and by Vite, must get the DOM-socket build (the
 * package's `browser` condition), never Node's `ws`, and must connect from
 * chromium. Builds go to temp dirs beside the installed package.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { Storage } from '../../src/index.js';
import { openPage, useBrowser } from '../support/browser.js';
import { installedPackage, type InstalledPackage } from '../support/packed-package.js';
import { startServer } from '../support/server.js';

const MAIN = `
import { connect, ConnectError } from 'koa-juggler/client';

const out = document.getElementById('count');
connect('/ws').then(
  (client) => client.onChange((state) => { out.textContent = String(state?.count); }),
  (err) => { out.textContent = (err instanceof ConnectError ? 'ConnectError: ' : 'error: ') + err.message; },
);
`;

const HTML = `<!doctype html>
<meta charset="utf-8">
<title>bundled koa-juggler/client</title>
<link rel="icon" href="data:,">
<output id="count">loading</output>
<script type="module" src="./main.js"></script>
`;

/** A web app's sources in a fresh dir inside the scratch project, so that `koa-juggler` resolves to the installed package. */
function webApp(pkg: InstalledPackage, name: string): string {
  const dir = mkdtempSync(join(pkg.dir, `${name}-`));
  writeFileSync(join(dir, 'main.js'), MAIN);
  writeFileSync(join(dir, 'index.html'), HTML);
  return dir;
}

/** What a bundle must not hold: Node's `ws` (its inputs or its telltale strings) or any node:* import. */
function assertNoNodeCode(modules: string[], code: string): void {
  assert.ok(modules.some((id) => /koa-juggler[\\/]dist[\\/]client[\\/]browser\.js$/.test(id)), `the browser build is bundled: ${modules.join(', ')}`);
  assert.deepEqual(
    modules.filter((id) => /node_modules[\\/](ws|koa|@types)[\\/]|node-socket|^node:|dist[\\/]client[\\/]index\.js$/.test(id)),
    [],
  );
  assert.doesNotMatch(code, /permessage-deflate|Sec-WebSocket-Key|from\s*["']node:|require\(["']ws["']\)/);
}

describe('bundlers: koa-juggler/client in a web app', function () {
  this.timeout(60_000);
  const browser = useBrowser();
  let pkg: InstalledPackage;
  before(async function () {
    this.timeout(180_000);
    pkg = await installedPackage();
  });

  /** Serves `dir` (the built app) next to a juggler endpoint; the page must show the state, then its change. */
  async function runsInChromium(dir: string): Promise<void> {
    const state = new Storage({ count: 41 });
    const server = await startServer({ staticDir: dir, state });
    const { page, consoleErrors, pageErrors } = await openPage(browser(), `http://127.0.0.1:${server.port}/index.html`);
    const count = page.locator('#count');
    await count.filter({ hasText: /^41$/ }).waitFor({ timeout: 10_000 });
    state.set(['count'], 42);
    await count.filter({ hasText: /^42$/ }).waitFor({ timeout: 10_000 });
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(consoleErrors, []);
    assert.deepEqual(server.errors, []);
  }

  it('esbuild (platform browser) bundles the DOM build, and the page connects', async () => {
    const dir = webApp(pkg, 'esbuild');
    const outdir = join(dir, 'out');
    const result = await esbuild.build({
      entryPoints: [join(dir, 'main.js')],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      outdir,
      metafile: true,
      logLevel: 'silent',
      absWorkingDir: dir,
    });
    assert.deepEqual(result.errors, []);
    writeFileSync(join(outdir, 'index.html'), HTML);
    assertNoNodeCode(Object.keys(result.metafile.inputs), readFileSync(join(outdir, 'main.js'), 'utf8'));
    await runsInChromium(outdir);
  });

  it('Vite bundles the DOM build, and the page connects', async () => {
    const dir = webApp(pkg, 'vite');
    const outDir = join(dir, 'dist');
    mkdirSync(outDir);
    const { build } = await import('vite');
    const output = await build({
      root: dir,
      configFile: false,
      logLevel: 'silent',
      cacheDir: join(dir, '.vite-cache'),
      build: { outDir, emptyOutDir: true, minify: false },
    });
    const chunks = (Array.isArray(output) ? output : [output]).flatMap((o) => ('output' in o ? o.output : [])).filter((c) => c.type === 'chunk');
    assert.ok(chunks.length > 0);
    assertNoNodeCode(
      chunks.flatMap((c) => c.moduleIds),
      chunks.map((c) => c.code).join('\n'),
    );
    await runsInChromium(outDir);
  });
});
