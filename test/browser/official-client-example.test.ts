/**
 * examples/official-client in chromium: the example's own server run with
 * node, the official @hat-open/juggler client loaded through the page's
 * import map from node_modules: it connects, shows the state, and a
 * request changes it.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openPage, useBrowser } from '../support/browser.js';
import { onCleanup } from '../support/cleanup.js';
import { CliProcess, ensureBuilt, ROOT } from '../support/cli.js';

describe('examples/official-client (chromium)', function () {
  this.timeout(60_000);
  const browser = useBrowser();

  it('connects with @hat-open/juggler, shows the count, and a request changes it', async () => {
    ensureBuilt();
    // The server imports 'koa-juggler': from inside the repository that is the package itself (dist/).
    const server = new CliProcess([], { script: join(ROOT, 'examples', 'official-client', 'server.mjs'), cwd: ROOT, env: { NODE_OPTIONS: undefined, PORT: '0' } });
    onCleanup(async () => {
      server.child.kill('SIGTERM');
      await server.waitExit();
    });
    const url = await server.listening(20_000);
    const outside = await fetch(new URL('/vendor/snabbdom/..%2F..%2F..%2Fpackage.json', url));
    assert.equal(outside.status, 404);
    const { page, pageErrors, consoleErrors } = await openPage(browser(), new URL('/index.html', url).href);
    await page.waitForSelector('#status[data-status="connected"]', { timeout: 10_000 });
    await page.waitForFunction(() => document.getElementById('count')?.textContent === '0', null, { timeout: 10_000 });
    await page.click('#add');
    await page.waitForFunction(() => document.getElementById('count')?.textContent === '2', null, { timeout: 10_000 });
    await page.waitForFunction(() => document.getElementById('add')?.textContent === 'add 2 (got 2)', null, { timeout: 10_000 });
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(consoleErrors, []);
  });
});
