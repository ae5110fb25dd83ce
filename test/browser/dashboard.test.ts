/**
 * The demo's counter page (static/counter.html) in a real chromium, against the demo server
 * the CLI runs (startDemo), on 127.0.0.1, port 0: it loads over http,
 * connects through the browser bundle at /juggler-client.js, follows the
 * shared state, sends requests from its buttons, and comes back after a
 * server restart.
 */
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import type { Page } from 'playwright-core';
import { startDemo, type Demo, type DemoOptions } from '../../src/cli/demo-app.js';
import { openPage, screenshot, useBrowser } from '../support/browser.js';
import { onCleanup } from '../support/cleanup.js';
import { waitFor } from '../support/wait.js';

async function demo(options: DemoOptions = {}): Promise<Demo & { url: string }> {
  const running = await startDemo({ host: '127.0.0.1', port: 0, onError: () => {}, ...options });
  onCleanup(() => running.close());
  // The counter is the demo's second page; the plant (index.html) has its own tests (plant.test.ts).
  return Object.assign(running, { url: `http://127.0.0.1:${running.port}/counter.html` });
}

const text = (page: Page, testId: string) => page.getByTestId(testId).textContent();

/** Waits until the element shows exactly `expected`; fails after `timeout` ms saying what it showed. */
async function shows(page: Page, testId: string, expected: string, timeout = 5000): Promise<void> {
  try {
    await page.waitForFunction(
      ([id, want]) => document.querySelector(`[data-testid="${id}"]`)?.textContent === want,
      [testId, expected] as const,
      { timeout, polling: 'raf' },
    );
  } catch {
    assert.fail(`${testId} shows ${JSON.stringify(await text(page, testId))}, not ${JSON.stringify(expected)} within ${timeout} ms`);
  }
}

async function status(page: Page, expected: string, timeout = 5000): Promise<void> {
  await page.waitForSelector(`[data-testid="connection"][data-status="${expected}"]`, { timeout });
}

async function openDashboard(url: string, browser: ReturnType<ReturnType<typeof useBrowser>>) {
  const tab = await openPage(browser);
  const scripts: string[] = [];
  tab.page.on('response', (res) => {
    if (res.request().resourceType() === 'script') scripts.push(`${res.status()} ${new URL(res.url()).pathname}`);
  });
  const response = await tab.page.goto(url);
  await status(tab.page, 'connected');
  await tab.page.waitForFunction(() => document.getElementById('counter')?.textContent !== '–');
  return { ...tab, response, scripts };
}

describe('dashboard (static/) in chromium', function () {
  this.timeout(30_000);
  const browser = useBrowser();

  it('loads over http and connects through the browser bundle', async () => {
    const server = await demo();
    const { page, response, scripts, consoleErrors, pageErrors } = await openDashboard(server.url, browser());
    assert.equal(response?.status(), 200);
    assert.equal(new URL(page.url()).pathname, '/counter.html');
    assert.equal(await page.title(), 'koa-juggler · live demo');
    assert.ok(scripts.includes('200 /dashboard.js'), scripts.join(', '));
    assert.ok(scripts.includes('200 /juggler-client.js'), scripts.join(', '));

    assert.equal(await text(page, 'connection-text'), 'connected');
    assert.equal(await text(page, 'counter'), '0');
    // The welcome state comes before onConnection counts this client: the count follows as a diff.
    await shows(page, 'clients', '1');
    await shows(page, 'you', '#1');
    const raw = JSON.parse((await text(page, 'raw-state')) ?? 'null');
    assert.equal(raw.startedAt, (server.state.data as { startedAt: string }).startedAt);
    assert.match((await text(page, 'feed')) ?? '', /Welcome! You are client #1 of 1/);
    for (const id of ['increment', 'decrement', 'reset']) assert.equal(await page.getByTestId(id).isEnabled(), true, id);

    await screenshot(page, 'dashboard-connected');
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(consoleErrors, []);
  });

  it('shows a state change pushed by the server within a second', async () => {
    const server = await demo();
    const { page } = await openDashboard(server.url, browser());
    const started = Date.now();
    server.state.set('counter', 42);
    await shows(page, 'counter', '42', 1000);
    assert.ok(Date.now() - started < 1000);
    // And the uptime ticks by itself.
    const uptime = await text(page, 'uptime');
    await page.waitForFunction((before) => document.getElementById('uptime')?.textContent !== before, uptime, { timeout: 2500 });
  });

  it('round-trips a request when a button is clicked', async () => {
    const server = await demo();
    const { page, pageErrors } = await openDashboard(server.url, browser());
    await page.getByTestId('increment').click();
    await shows(page, 'counter', '1');
    await page.getByTestId('increment').click();
    await shows(page, 'counter', '2');
    await page.getByTestId('decrement').click();
    await shows(page, 'counter', '1');
    assert.equal(server.state.get('counter'), 1);
    await shows(page, 'requests', '3');
    assert.match((await text(page, 'last-result')) ?? '', /^your decrement → 1 in \d+ ms$/);
    assert.match((await text(page, 'last-action')) ?? '', /^You lowered it to 1/);

    await page.getByTestId('reset').click();
    await shows(page, 'counter', '0');
    await page.waitForFunction(() => document.querySelector('#feed li')?.textContent?.includes('You reset the counter from 1'));
    assert.deepEqual(pageErrors, []);
  });

  it('shows other clients: their count, their clicks and their notifications, newest first', async () => {
    const server = await demo();
    const first = await openDashboard(server.url, browser());
    const second = await openDashboard(server.url, browser());
    await shows(first.page, 'clients', '2');
    await first.page.waitForFunction(() => document.querySelector('#feed li')?.textContent?.includes('Client #2 joined · 2 clients now'));

    await second.page.getByTestId('increment').click();
    await shows(first.page, 'counter', '1');
    assert.match((await text(first.page, 'last-action')) ?? '', /^Client #2 raised it to 1/);

    await second.page.close();
    await shows(first.page, 'clients', '1');
    await first.page.waitForFunction(() => document.querySelector('#feed li')?.textContent?.includes('Client #2 left · 1 client now'));
    const feed = await first.page.locator('#feed li .feed-text').allTextContents();
    assert.deepEqual(feed.slice(0, 2), ['Client #2 left · 1 client now', 'Client #2 joined · 2 clients now']);
  });

  it('shows a failed request with the data the server sent', async () => {
    const server = await demo();
    const { page } = await openDashboard(server.url, browser());
    const failure = await page.evaluate(() =>
      (window as any).dashboard.live.send('explode', null).then(
        () => null,
        (err: any) => ({ name: err.name, data: err.data }),
      ),
    );
    assert.deepEqual(failure, { name: 'JugglerError', data: 'unknown request "explode" (this demo knows increment, decrement and reset)' });
  });

  it('shows reconnecting while the server restarts, then the fresh state', async () => {
    const before = await demo();
    const { page, pageErrors } = await openDashboard(before.url, browser());
    before.state.set('counter', 7);
    await shows(page, 'counter', '7');
    const port = before.port;

    await before.close();
    await status(page, 'reconnecting');
    assert.match((await text(page, 'connection-text')) ?? '', /^reconnecting…/);
    for (const id of ['increment', 'decrement', 'reset']) assert.equal(await page.getByTestId(id).isDisabled(), true, id);
    assert.equal(await page.getByTestId('grid').getAttribute('data-stale'), '', 'the last known state is dimmed while disconnected');
    await screenshot(page, 'dashboard-reconnecting');

    const after = await demo({ port });
    await status(page, 'connected', 10_000);
    await shows(page, 'counter', '0');
    assert.equal(await page.getByTestId('grid').getAttribute('data-stale'), null);
    // On a koa-juggler.v1 connection the whole value comes right after welcome, before onConnection
    // counts this client in; that change follows as a diff within autoflushDelay.
    await shows(page, 'clients', '1');
    // The server's uptime ticks every second: the page may be one tick behind when looked at, never a mix.
    const raw = await waitFor(async () => {
      const shown = JSON.parse((await text(page, 'raw-state')) ?? 'null');
      return isDeepStrictEqual(shown, JSON.parse(JSON.stringify(after.state.data))) ? shown : null;
    }, 'the new server state, not a mix with the old one');
    assert.notEqual(raw.startedAt, (before.state.data as { startedAt: string }).startedAt);
    assert.match((await text(page, 'feed')) ?? '', /Connection lost/);

    // Still usable after the restart.
    await page.getByTestId('increment').click();
    await shows(page, 'counter', '1');
    assert.deepEqual(pageErrors, []);
  });

  it('says disconnected, and offers a reload, once its budget is spent', async () => {
    const server = await demo();
    const { page } = await openDashboard(`${server.url}?budget=1000`, browser());
    await server.close();
    await status(page, 'reconnecting');
    await status(page, 'disconnected', 5000);
    assert.equal(await text(page, 'connection-text'), 'disconnected');
    assert.equal(await page.getByTestId('retry').isVisible(), true);
    assert.match((await text(page, 'feed')) ?? '', /Gave up: /);
  });

  it('finds a WebSocket endpoint moved with wsPath through /demo-config.json', async () => {
    const server = await demo({ wsPath: '/elsewhere' });
    const { page } = await openDashboard(server.url, browser());
    assert.equal(await text(page, 'endpoint'), `ws://127.0.0.1:${server.port}/elsewhere`);
    await page.keyboard.press('+');
    await shows(page, 'counter', '1');
  });

  it('fits a phone screen without sideways scrolling', async () => {
    const server = await demo();
    const { page } = await openPage(browser(), undefined, { viewport: { width: 390, height: 844 } });
    await page.goto(server.url);
    await status(page, 'connected');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.equal(overflow, 0);
    await screenshot(page, 'dashboard-phone');
  });
});
