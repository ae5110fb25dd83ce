/**
 * examples/react-dashboard in chromium: its app bundled by esbuild into a
 * temp dir (React 19, koa-juggler from src/), served by the example's own
 * server run with node: rows show values, update live, and an alarm can
 * be acknowledged.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPage, useBrowser } from '../support/browser.js';
import { onCleanup } from '../support/cleanup.js';
import { CliProcess, ensureBuilt, ROOT } from '../support/cli.js';
import { bundleReactPage } from '../support/react-bundle.js';

const EXAMPLE = join(ROOT, 'examples', 'react-dashboard');

describe('examples/react-dashboard (chromium)', function () {
  this.timeout(60_000);
  const browser = useBrowser();

  it('shows the plant live, and acknowledges an alarm', async () => {
    ensureBuilt();
    const dir = mkdtempSync(join(tmpdir(), 'koa-juggler-react-dashboard-'));
    writeFileSync(join(dir, 'app.js'), (await bundleReactPage({ file: join(EXAMPLE, 'app.jsx') }, 19)).code);
    copyFileSync(join(EXAMPLE, 'index.html'), join(dir, 'index.html'));
    // The server imports 'koa-juggler': from inside the repository that is the package itself (dist/).
    const server = new CliProcess([], { script: join(EXAMPLE, 'server.mjs'), cwd: ROOT, env: { NODE_OPTIONS: undefined, PORT: '0', STATIC_DIR: dir, TICK: '5', ALARM: '60' } });
    onCleanup(async () => {
      server.child.kill('SIGTERM');
      await server.waitExit();
    });
    const url = await server.listening(20_000);
    const { page, pageErrors, consoleErrors } = await openPage(browser(), new URL('/index.html', url).href);
    await page.waitForSelector('#status[data-status="connected"]', { timeout: 10_000 });
    assert.equal(await page.locator('tr').count(), 200);
    // Values drift from 50: some row shows another value soon.
    await page.waitForFunction(() => Array.from(document.querySelectorAll('td.value')).some((td) => td.textContent !== '50'), null, { timeout: 10_000 });
    const alarm = page.locator('tr.alarm').first();
    await alarm.waitFor({ timeout: 30_000 });
    const id = await alarm.getAttribute('data-id');
    await alarm.locator('button').click();
    await page.waitForFunction((row) => !document.querySelector(`tr[data-id="${row}"]`)?.classList.contains('alarm'), id, { timeout: 10_000 });
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(consoleErrors, []);
  });
});
