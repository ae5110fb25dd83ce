/**
 * The official browser client, @hat-open/juggler 0.7, in a real chromium
 * against our server: what an existing hat-juggler dashboard gets when it
 * is pointed at koa-juggler. The package and its dependencies
 * (@hat-open/util, @hat-open/renderer, snabbdom) are bundled in memory by
 * esbuild and served by the test server itself; nothing is written to disk.
 */
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import type { Page } from 'playwright-core';
import { JugglerError, Storage, type ListenOptions, type Server } from '../../src/index.js';
import { openPage, screenshot, testPage, useBrowser } from '../support/browser.js';
import { startServer } from '../support/server.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>@hat-open/juggler against koa-juggler</title>
<pre id="log"></pre>
<script type="module">
  import * as juggler from '/official/juggler.js';
  // Opens a Connection and resolves once it is open; records what it receives.
  window.openConnection = (address, ...args) => new Promise((resolve, reject) => {
    const conn = new juggler.Connection(address, ...args);
    conn.log = [];
    conn.states = [];
    conn.closed = new Promise((done) => conn.addEventListener('close', () => { conn.log.push('close'); done(); }));
    conn.addEventListener('change', (e) => conn.states.push(JSON.parse(JSON.stringify(e.detail))));
    conn.addEventListener('notify', (e) => conn.log.push({ notify: e.detail }));
    conn.addEventListener('open', () => resolve(conn), { once: true });
    conn.addEventListener('close', () => reject(new Error('closed before open')), { once: true });
  });
  window.juggler = juggler;
  document.getElementById('log').textContent = 'ready';
</script>`;

let bundle: string;

/** Serves the test page and the bundled official client beside the juggler endpoint. */
const officialPage = testPage('/official/', PAGE, 'juggler.js', () => bundle);

describe('@hat-open/juggler 0.7 in chromium against our server', function () {
  this.timeout(30_000);
  const browser = useBrowser();
  before(async function () {
    this.timeout(30_000);
    const result = await esbuild.build({
      stdin: { contents: "export * from '@hat-open/juggler';", resolveDir: ROOT, loader: 'js' },
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      write: false,
      logLevel: 'warning',
    });
    bundle = result.outputFiles[0].text;
  });

  async function setup(options: ListenOptions = {}): Promise<{ page: Page; url: string; pageErrors: Error[]; server: Server }> {
    const server = await startServer({ ...options, middleware: [officialPage] });
    const { page, pageErrors } = await openPage(browser(), `http://127.0.0.1:${server.port}/official/`);
    await page.waitForFunction(() => document.getElementById('log')?.textContent === 'ready');
    return { page, url: server.url, pageErrors, server };
  }

  it('works with compression on: the browser negotiates permessage-deflate and the frames shrink', async () => {
    const { page, url, server } = await setup({ compression: true, metrics: true, onRequest: (_conn, _name, data) => ({ got: data }) });
    const big = 'pump running; '.repeat(20_000);
    const ok = await page.evaluate(
      async ([address, text]) => {
        const conn = await (window as any).openConnection(address);
        const out = await conn.send('echo', text);
        conn.close();
        await conn.closed;
        return out.got === text;
      },
      [url, big] as const,
    );
    assert.equal(ok, true);
    const metrics = await server.metrics!.getMetricsAsJSON();
    const bytes = (name: string) => metrics.find((m) => m.name === name)!.values[0]!.value;
    assert.ok(bytes('juggler_received_bytes_total') < big.length / 5, `received ${bytes('juggler_received_bytes_total')} bytes for ${big.length}`);
    assert.ok(bytes('juggler_sent_bytes_total') < big.length / 5, `sent ${bytes('juggler_sent_bytes_total')} bytes for ${big.length}`);
  });

  it('sends requests and gets their results, pipelined, beyond one segment both ways', async () => {
    const { page, url } = await setup({
      onRequest: (_conn, name, data) => (name === 'echo' ? { got: data } : null),
    });
    const results = await page.evaluate(async (address) => {
      const conn = await (window as any).openConnection(address);
      const big = 'b'.repeat(150_000) + '\u{1F600}';
      const out = await Promise.all([conn.send('echo', [1, 'two', { three: null }]), conn.send('', { plain: true }), conn.send('echo', big)]);
      conn.close();
      await conn.closed;
      return { first: out[0], empty: out[1], bigOk: out[2].got === big };
    }, url);
    assert.deepEqual(results, { first: { got: [1, 'two', { three: null }] }, empty: { plain: true }, bigOk: true });
  });

  it('gets failure data: the JugglerError data as sent, an Error as its message', async () => {
    const { page, url } = await setup({
      onRequest(_conn, name) {
        if (name === 'refuse') throw new JugglerError({ why: 'refused', code: 7 });
        throw new Error('boom');
      },
    });
    const failures = await page.evaluate(async (address) => {
      const conn = await (window as any).openConnection(address);
      // (No named function in here: tsx would wrap it in a helper the page does not have.)
      const out = [];
      for (const name of ['refuse', 'crash']) out.push(await conn.send(name, null).then(() => 'resolved', (data: unknown) => data));
      conn.close();
      return out;
    }, url);
    assert.deepEqual(failures, [{ why: 'refused', code: 7 }, 'boom']);
  });

  it('keeps its state in sync: the whole value first, then each diff', async () => {
    const shared = new Storage({ greeting: 'hi', rows: [] });
    const { page, url } = await setup({ state: shared, autoflushDelay: 10, onRequest: () => null });
    await page.evaluate(async (address) => {
      const w = window as any;
      w.conn = await w.openConnection(address);
    }, url);
    await page.waitForFunction(() => (window as any).conn.states.length > 0);
    assert.deepEqual(await page.evaluate(() => (window as any).conn.states[0]), { greeting: 'hi', rows: [] });

    shared.set(['rows', 0], { id: 1, label: 'snow \u2603 and \u{1F600}' });
    shared.set(['rows', 1], { id: 2, blob: 'x'.repeat(100_000) });
    shared.remove('greeting');
    shared.set(['meta', 'count'], 2);
    const expected = JSON.parse(JSON.stringify(shared.data));
    await page.waitForFunction((want) => JSON.stringify((window as any).conn.state) === want, JSON.stringify(expected));

    shared.remove(['rows', 0]);
    await page.waitForFunction((want) => JSON.stringify((window as any).conn.state) === want, JSON.stringify(shared.data));
    await page.evaluate(() => (window as any).conn.close());
  });

  it('sees only its view of a shared state (view(conn)), and nothing from outside it on the wire', async () => {
    const shared = new Storage({ sites: { north: { p1: 1 }, south: { p1: 'SOUTH-SECRET' } } });
    const { page, url } = await setup({ state: shared, autoflushDelay: 10, view: () => [['sites', 'north']] });
    await page.evaluate(async (address) => {
      const w = window as any;
      w.conn = await w.openConnection(address);
    }, url);
    await page.waitForFunction(() => (window as any).conn.states.length > 0);
    shared.set(['sites', 'south', 'p1'], 'SOUTH-SECRET-2');
    shared.set('sites', { north: { p1: 2 }, south: { p1: 'SOUTH-SECRET-3' } });
    shared.set(['sites', 'north', 'p2'], 3);
    await page.waitForFunction((want) => JSON.stringify((window as any).conn.state) === want, JSON.stringify({ sites: { north: { p1: 2, p2: 3 } } }));
    const states = await page.evaluate(() => JSON.stringify((window as any).conn.states));
    assert.doesNotMatch(states, /SECRET|south/);
    await page.evaluate(() => (window as any).conn.close());
  });

  it('gets notifications, before the response of the request that sent them', async () => {
    const { page, url } = await setup({
      async onRequest(conn, name, data) {
        await conn.notify('event', { n: data, text: 'caf\u00e9 \u{1F600}' });
        return 'done';
      },
    });
    const log = await page.evaluate(async (address) => {
      const conn = await (window as any).openConnection(address);
      const result = await conn.send('notify-me', 1);
      conn.log.push({ result });
      conn.close();
      await conn.closed;
      return conn.log;
    }, url);
    assert.deepEqual(log, [{ notify: { name: 'event', data: { n: 1, text: 'caf\u00e9 \u{1F600}' } } }, { result: 'done' }, 'close']);
  });

  it('stays connected through pings in both directions', async () => {
    // The server pings after 50 ms of silence, the client after 40 ms; either side drops a peer silent for 300 ms.
    const { page, url } = await setup({ pingDelay: 50, pingTimeout: 300, onRequest: () => 'still here' });
    const result = await page.evaluate(async (address) => {
      const conn = await (window as any).openConnection(address, 40, 300);
      await new Promise((r) => setTimeout(r, 800));
      const open = conn.readyState === WebSocket.OPEN;
      const answer = await conn.send('x', null);
      conn.close();
      return { open, answer, log: conn.log };
    }, url);
    assert.deepEqual(result, { open: true, answer: 'still here', log: [] });
  });

  it('runs an Application: connected event, requests and notifications', async () => {
    const { page, url, pageErrors } = await setup({
      async onRequest(conn, name) {
        await conn.notify('hello', { from: 'server' });
        return name.toUpperCase();
      },
    });
    const result = await page.evaluate(async (address) => {
      const { Application } = (window as any).juggler;
      const app = new Application(null, undefined, [address], null);
      const events: unknown[] = [];
      app.addEventListener('notify', (e: CustomEvent) => events.push(e.detail));
      await new Promise((resolve) => app.addEventListener('connected', resolve, { once: true }));
      const answer = await app.send('shout', null);
      const disconnected = new Promise((resolve) => app.addEventListener('disconnected', resolve, { once: true }));
      app.disconnect();
      await disconnected;
      return { answer, events };
    }, url);
    assert.deepEqual(result, { answer: 'SHOUT', events: [{ name: 'hello', data: { from: 'server' } }] });
    await screenshot(page, 'official-client');
    assert.deepEqual(pageErrors, []);
  });
});
