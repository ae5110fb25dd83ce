/**
 * koa-juggler.v1 negotiation in a real chromium, through the browser
 * bundle (built in memory by esbuild from src/client/browser.ts, as
 * scripts/build.mjs builds it, and served by a test route): against a
 * plain juggler server that selects no subprotocol (Chromium fails such a
 * handshake with 1006 before open, without saying why) the client retries
 * at once without the offer and works; against our server it uses the
 * extension.
 */
import assert from 'node:assert/strict';
import { Storage } from '../../src/index.js';
import { openPage, testPage, useBrowser } from '../support/browser.js';
import { startRawServer } from '../support/raw-server.js';
import { startServer } from '../support/server.js';
import { bundleClient } from '../support/client-bundle.js';

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>koa-juggler client: negotiation</title>
<script type="module">
  import * as juggler from '/test/juggler-client.js';
  window.juggler = juggler;
  document.title = 'ready';
</script>`;

let bundle: string;

const testRoutes = testPage('/test/', PAGE, 'juggler-client.js', () => bundle);

describe('koa-juggler.v1 negotiation in chromium', function () {
  this.timeout(30_000);
  const browser = useBrowser();
  before(async function () {
    this.timeout(30_000);
    bundle = (await bundleClient()).code;
  });

  it('works with a plain juggler server by retrying without the subprotocol, and uses the extension with ours', async () => {
    const server = await startServer({
      state: new Storage({ from: 'ours' }),
      middleware: [testRoutes],
      onRequest: (_conn, _name, data) => data,
      onStream: (_conn, _name, data) => ({ streamed: data }),
    });
    const plain = await startRawServer({ onRequest: (_conn, r) => ({ success: true, data: { plain: r.data } }) });
    const { page, pageErrors } = await openPage(browser(), `http://127.0.0.1:${server.port}/test/`);
    await page.waitForFunction(() => document.title === 'ready');

    const withPlain = await page.evaluate(async (url) => {
      const { connect, ExtensionUnavailableError } = (window as any).juggler;
      const client = await connect(url);
      const answer = await client.send('echo', 1);
      const notify = await client.notify('n', 1).then(
        () => 'sent',
        (err: Error) => (err instanceof ExtensionUnavailableError ? 'unavailable' : String(err)),
      );
      client.close();
      await client.closed;
      // The address is remembered as plain: no offer, no failed handshake this time.
      const again = await connect(url);
      const second = await again.send('echo', 2);
      again.close();
      await again.closed;
      return { extension: client.extension, session: client.session, answer, notify, second };
    }, plain.url);
    assert.deepEqual(withPlain, { extension: false, session: null, answer: { plain: 1 }, notify: 'unavailable', second: { plain: 2 } });
    const offers = plain.upgrades.map((req) => req.headers['sec-websocket-protocol']);
    assert.deepEqual(offers, ['koa-juggler.v1', undefined, undefined]);

    const withOurs = await page.evaluate(async () => {
      const { connect } = (window as any).juggler;
      const client = await connect('/ws');
      const states: unknown[] = [];
      const first = new Promise<void>((resolve) =>
        client.onChange((state: unknown) => {
          states.push(state);
          resolve();
        }),
      );
      const answer = await client.send('echo', 'x', { key: 'browser-1' });
      const streamed: unknown[] = [];
      for await (const item of client.stream('s', 7)) streamed.push(item);
      await first;
      client.close();
      await client.closed;
      return { extension: client.extension, session: typeof client.session, answer, streamed, state: states[0], version: typeof client.version };
    });
    assert.deepEqual(withOurs, {
      extension: true,
      session: 'string',
      answer: 'x',
      streamed: [{ streamed: 7 }],
      state: { from: 'ours' },
      version: 'string',
    });
    assert.deepEqual(pageErrors, []);
  });
});
