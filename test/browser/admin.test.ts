/**
 * The admin page (static-admin/, served at /_admin/) in a real chromium:
 * it loads, lists a connection, shows the state as a tree a level at a
 * time, follows the diffs live, and its pause and path filter work. It is
 * refused to anyone but loopback sockets (forwarding headers never count)
 * or, with `authorize`, to the users it accepts.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { connect } from '../../src/client/index.js';
import { Storage } from '../../src/index.js';
import { AdminPage } from '../../src/server/admin/admin-page.js';
import { openPage, useBrowser } from '../support/browser.js';
import { onCleanup } from '../support/cleanup.js';
import { makeHtpasswd } from '../support/htpasswd.js';
import { startServer } from '../support/server.js';
import { waitFor } from '../support/wait.js';

const testId = (id: string) => `[data-testid="${id}"]`;

async function setup() {
  const state = new Storage({ plant: { line1: { speed: 3 }, line2: { speed: 4 } }, alarms: ['a'.repeat(300)] });
  const server = await startServer({ state, admin: true, autoflushDelay: 0, onRequest: (_conn, _name, data) => data });
  const client = await connect(server.url);
  onCleanup(() => client.close());
  return { server, state, client, url: `http://127.0.0.1:${server.port}/_admin/` };
}

/** Waits until the diff list's newest entry mentions `text`. */
async function newestDiffHas(page: Page, text: string): Promise<void> {
  await page.waitForFunction(([sel, t]) => document.querySelector(sel)?.firstElementChild?.textContent?.includes(t) ?? false, [testId('diffs'), text] as const, { timeout: 5000 });
}

describe('admin page (static-admin/) in chromium', function () {
  this.timeout(30_000);
  const browser = useBrowser();

  it('shows a connection, the state tree, live diffs; pause and filter work', async () => {
    const { state, client, url } = await setup();
    const { page, consoleErrors, pageErrors } = await openPage(browser(), url);
    // A connection: the client made in setup, an extension one.
    await page.waitForSelector(`${testId('connections')} tr[data-remote="127.0.0.1"]`);
    assert.match((await page.textContent(testId('connections')))!, /extension/);
    assert.equal(await page.textContent(testId('connection-count')), '1');

    // The tree: the root, then one level per click, each with its size.
    await page.click('[data-path="[]"]');
    await page.waitForSelector('[data-path=\'["plant"]\']');
    assert.equal(await page.locator('[data-path=\'["plant","line1"]\']').count(), 0, 'lazy: deeper levels wait for a click');
    await page.click('[data-path=\'["plant"]\']');
    await page.waitForSelector('[data-path=\'["plant","line1"]\']');
    assert.match((await page.textContent('[data-path=\'["plant","line1"]\']'))!, /\{1\}\s*11 B/);
    assert.match((await page.textContent('[data-path=\'["alarms"]\']'))!, /\[1\]\s*304 B/);

    // Live diffs, as they go out (once the page follows them: the stream joins the channel only then).
    await waitFor(async () => ((await (await fetch(url + 'api/overview')).json()) as { state: { watchers: number } }).state.watchers === 1, 'the page to follow the diffs');
    state.set(['plant', 'line1', 'speed'], 5);
    await newestDiffHas(page, '/plant/line1/speed 5');

    // Pause: nothing new is shown, the status counts what was not.
    await page.click(testId('diff-pause'));
    state.set(['plant', 'line1', 'speed'], 6);
    await page.waitForFunction((sel) => document.querySelector(sel)?.textContent === 'paused: 1 diff not shown', testId('diff-status'));
    await newestDiffHas(page, '/plant/line1/speed 5');
    await page.click(testId('diff-pause'));

    // Filter by path: line2 only.
    await page.fill(testId('diff-filter'), '/plant/line2');
    state.set(['plant', 'line1', 'speed'], 7);
    state.set(['plant', 'line2', 'speed'], 8);
    await newestDiffHas(page, '/plant/line2/speed 8');
    assert.ok(!(await page.textContent(testId('diffs')))!.includes('speed 7'), 'line1 filtered out');

    // Requests counted: the rate shows once two polls have passed.
    await client.send('echo', 1);
    await page.waitForFunction((sel) => /^\d+\.\d$/.test(document.querySelector(sel)?.textContent ?? ''), testId('request-rate'));
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(consoleErrors, []);
  });

  it('answers 403 to non-loopback sockets, whatever forwarding headers say; served from loopback whatever they say', async () => {
    const { url } = await setup();
    const forged = await fetch(url, { headers: { 'X-Forwarded-For': '203.0.113.9', Forwarded: 'for=203.0.113.9' } });
    assert.equal(forged.status, 200);
    // A socket from elsewhere (its own address is what counts), claiming to be local.
    const page = new AdminPage({ authorize: null });
    const ctx = {
      path: '/_admin/',
      method: 'GET',
      req: { socket: { remoteAddress: '192.0.2.7' } },
      headers: { 'x-forwarded-for': '127.0.0.1' },
      state: {},
      status: 404,
      body: undefined as unknown,
      set() {},
    };
    await page.middleware()(ctx as never, async () => {});
    assert.equal(ctx.status, 403);
  });

  it('with { authorize }, serves the users it accepts and no one else', async () => {
    const file = await makeHtpasswd([
      { user: 'ops', password: 'pw', format: 'apr1' },
      { user: 'guest', password: 'pw', format: 'apr1' },
    ]);
    onCleanup(() => file.cleanup());
    const server = await startServer({ htpasswdFile: file.path, admin: { authorize: (user) => user === 'ops' } });
    const as = (user: string) => ({ Authorization: 'Basic ' + Buffer.from(`${user}:pw`).toString('base64') });
    const base = `http://127.0.0.1:${server.port}/_admin`;
    assert.equal((await fetch(`${base}/api/overview`, { headers: as('ops') })).status, 200);
    assert.equal((await fetch(`${base}/api/overview`, { headers: as('guest') })).status, 403);
    assert.equal((await fetch(`${base}/api/overview`)).status, 401);
  });

  it('is not there without the option, and needs authentication for authorize', async () => {
    const server = await startServer({ state: new Storage({}) });
    assert.equal((await fetch(`http://127.0.0.1:${server.port}/_admin/`)).status, 404);
    await assert.rejects(startServer({ admin: { authorize: () => true } }), /options\.admin/);
  });
});
