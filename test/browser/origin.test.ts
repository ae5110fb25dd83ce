/**
 * Cross-site WebSocket hijacking, in a real browser. The dashboard server
 * authenticates by a session cookie, and the browser holds that cookie for
 * 127.0.0.1. A page from a second server on another port (another origin,
 * but the same site: the browser attaches the cookie to the handshake)
 * opens `new WebSocket('ws://127.0.0.1:<dashboard port>/ws')`: it must
 * fail, while the dashboard's own page connects. A control run, where the
 * dashboard lists the other origin in allowedOrigins, shows that the cookie
 * does ride along and only the Origin check stops the hijack.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { openPage, useBrowser } from '../support/browser.js';
import { onCleanup } from '../support/cleanup.js';
import { startServer } from '../support/server.js';

const SESSION = 'session=s3cret-' + Math.random().toString(36).slice(2);

async function pageDir(title: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kj-origin-'));
  onCleanup(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'index.html'), `<!doctype html><title>${title}</title><p>${title}</p>`);
  return dir;
}

async function dashboard(allowedOrigins?: string[]) {
  return startServer({
    staticDir: await pageDir('dashboard'),
    allowedOrigins,
    // Cookie authentication, for every route and the upgrade.
    authenticate: (req) => ((req.headers.cookie ?? '').split(/;\s*/).includes(SESSION) ? 'operator' : null),
    onRequest: (conn, name) => ({ name, user: conn.user }),
  });
}

// Runs in the page: opens the socket, sends one juggler request, and tells what happened.
// A string, not a function: the TypeScript loader would wrap named functions in a helper the page lacks.
const HIJACK = `(target) => new Promise((resolve) => {
  let opened = false;
  const ws = new WebSocket(target);
  const timer = setTimeout(() => resolve({ opened, answer: 'timeout', code: null }), 5000);
  ws.onopen = () => {
    opened = true;
    ws.send('0' + JSON.stringify({ type: 'request', id: 1, name: 'read-plant', data: null }));
  };
  ws.onmessage = (event) => {
    const text = String(event.data);
    if (text[0] === '0' && text.includes('"response"')) {
      clearTimeout(timer);
      ws.close();
      resolve({ opened, answer: JSON.parse(text.slice(1)).data, code: null });
    }
  };
  ws.onclose = (event) => {
    clearTimeout(timer);
    resolve({ opened, answer: null, code: event.code });
  };
})`;

function tryHijack(page: Page, url: string): Promise<{ opened: boolean; answer: unknown; code: number | null }> {
  return page.evaluate(`(${HIJACK})(${JSON.stringify(url)})`);
}

describe('Origin check in a real browser', function () {
  this.timeout(30_000);
  const browser = useBrowser();

  async function logIn(port: number) {
    const tab = await openPage(browser());
    await tab.context.addCookies([{ name: SESSION.split('=')[0]!, value: SESSION.split('=')[1]!, url: `http://127.0.0.1:${port}` }]);
    return tab;
  }

  it('lets the dashboard page connect, and refuses a page from another origin that holds the same cookie', async () => {
    const server = await dashboard();
    const evil = await startServer({ staticDir: await pageDir('evil') });
    const wsUrl = `ws://127.0.0.1:${server.port}/ws`;
    const { page } = await logIn(server.port);

    await page.goto(`http://127.0.0.1:${server.port}/index.html`);
    const own = await tryHijack(page, wsUrl);
    assert.deepEqual(own, { opened: true, answer: { name: 'read-plant', user: 'operator' }, code: null });

    await page.goto(`http://127.0.0.1:${evil.port}/index.html`);
    assert.equal(await page.title(), 'evil');
    const hijack = await tryHijack(page, wsUrl);
    assert.equal(hijack.opened, false, 'the cross-origin page must not get a socket');
    assert.equal(hijack.code, 1006);
    assert.equal([...server.connections].length, 0);
  });

  it('(control) the cookie does ride along cross-origin: only the Origin check stops it', async () => {
    const evil = await startServer({ staticDir: await pageDir('evil') });
    const server = await dashboard([`http://127.0.0.1:${evil.port}`]);
    const { page } = await logIn(server.port);
    await page.goto(`http://127.0.0.1:${evil.port}/index.html`);
    const hijack = await tryHijack(page, `ws://127.0.0.1:${server.port}/ws`);
    assert.deepEqual(hijack, { opened: true, answer: { name: 'read-plant', user: 'operator' }, code: null });
  });
});
