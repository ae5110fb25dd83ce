/**
 * koa-juggler/react in chromium with React 18 and 19: a page bundled with
 * esbuild in memory counts its renders; a component selecting one point
 * re-renders only when that point changes; the status follows the link
 * across a server restart; connect() and reconnect() clients both work.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { listen, Storage } from '../../src/index.js';
import { openPage, testPage, useBrowser } from '../support/browser.js';
import { onCleanup } from '../support/cleanup.js';
import { bundleReactPage, type ReactVersion } from '../support/react-bundle.js';
import { startServer } from '../support/server.js';

const PAGE = `
import { useState } from 'react';
import { version } from 'react';
import { createRoot } from 'react-dom/client';
import { connect, reconnect } from 'koa-juggler/client';
import { useJuggler, useJugglerStatus } from 'koa-juggler/react';

window.renders = { a: 0, whole: 0 };
const selectA = (state) => state?.points?.a ?? null;

function PointA({ live }) {
  const a = useJuggler(live, selectA);
  window.renders.a++;
  return <span id="a">{String(a)}</span>;
}
function Whole({ live }) {
  const state = useJuggler(live);
  window.renders.whole++;
  return <span id="whole">{JSON.stringify(state)}</span>;
}
function Status({ live }) {
  const { status, stale } = useJugglerStatus(live);
  return <span id="status">{status + (stale ? ' stale' : '')}</span>;
}

const mode = new URLSearchParams(location.search).get('mode');
const live = mode === 'connect'
  ? await connect('/ws', { snapshots: true })
  : reconnect('/ws', { snapshots: true, backoff: { initial: 50, max: 100, jitter: 0 } });
document.getElementById('version').textContent = version;
createRoot(document.getElementById('root')).render(<><PointA live={live} /><Status live={live} /><Whole live={live} /></>);
`;

const HTML = `<!doctype html><meta charset="utf-8"><title>react</title><link rel="icon" href="data:,">
<div id="version"></div><div id="root"></div><script type="module" src="./main.js"></script>`;

async function shows(page: Page, selector: string, text: string): Promise<void> {
  try {
    await page.waitForFunction(([s, t]) => document.querySelector(s)?.textContent === t, [selector, text] as const, { timeout: 10_000 });
  } catch {
    assert.fail(`${selector} shows ${JSON.stringify(await page.locator(selector).textContent())}, not ${JSON.stringify(text)}`);
  }
}

const renders = (page: Page) => page.evaluate(() => (window as unknown as { renders: { a: number; whole: number } }).renders);

for (const react of [18, 19] as ReactVersion[]) {
  describe(`koa-juggler/react with React ${react} (chromium)`, function () {
    this.timeout(60_000);
    const browser = useBrowser();
    let script = '';
    before(async function () {
      this.timeout(60_000);
      script = (await bundleReactPage({ source: PAGE }, react)).code;
    });
    const middleware = [testPage('/react/', HTML, 'main.js', () => script)];

    it('reconnect(): re-renders a selecting component only when its point changes, and shows the status across a restart', async () => {
      const state = new Storage({ points: { a: 1, b: 1 } });
      const server = await startServer({ state, autoflushDelay: 0, middleware });
      const { page, pageErrors, consoleErrors } = await openPage(browser(), `http://127.0.0.1:${server.port}/react/?mode=reconnect`);
      await shows(page, '#a', '1');
      await shows(page, '#status', 'connected');
      assert.match((await page.locator('#version').textContent())!, new RegExp(`^${react}\\.`));
      const before = await renders(page);
      for (let b = 2; b <= 6; b++) {
        state.set(['points', 'b'], b);
        await shows(page, '#whole', JSON.stringify({ points: { a: 1, b } }));
      }
      const afterB = await renders(page);
      assert.equal(afterB.a, before.a, 'b changed five times: the component selecting a did not render');
      assert.ok(afterB.whole >= before.whole + 5, 'the component of the whole state rendered for each change');
      state.set(['points', 'a'], 2);
      await shows(page, '#a', '2');
      assert.equal((await renders(page)).a, before.a + 1);

      const port = server.port;
      await server.close();
      await shows(page, '#status', 'reconnecting stale');
      await shows(page, '#a', '2');
      const second = await listen({ host: '127.0.0.1', port, state: new Storage({ points: { a: 7, b: 6 } }), middleware, onError: () => {} });
      onCleanup(() => second.close());
      await shows(page, '#a', '7');
      await shows(page, '#status', 'connected');
      assert.deepEqual(pageErrors, []);
      assert.deepEqual(consoleErrors.filter((line) => !/WebSocket|ERR_CONNECTION_REFUSED/.test(line)), []);
    });

    it('connect(): follows the state, and shows closed when the server goes away', async () => {
      const state = new Storage({ points: { a: 1, b: 1 } });
      const server = await startServer({ state, autoflushDelay: 0, middleware });
      const { page, pageErrors } = await openPage(browser(), `http://127.0.0.1:${server.port}/react/?mode=connect`);
      await shows(page, '#a', '1');
      await shows(page, '#status', 'connected');
      state.set(['points', 'a'], 3);
      await shows(page, '#a', '3');
      await server.close();
      await shows(page, '#status', 'closed');
      assert.deepEqual(pageErrors, []);
    });
  });
}
