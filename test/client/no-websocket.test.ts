import assert from 'node:assert/strict';
import { connect, ConnectError, GaveUpError, reconnect } from '../../src/client/browser.js';
import { onCleanup } from '../support/cleanup.js';
import { startServer } from '../support/server.js';
import { deferred, within } from '../support/wait.js';

/** Runs the test as the DOM build sees Node 20 or a browser from before WebSocket: no global `WebSocket`. */
function withoutWebSocket(): void {
  const global = globalThis as { WebSocket?: unknown };
  const had = Object.prototype.hasOwnProperty.call(global, 'WebSocket');
  const saved = global.WebSocket;
  delete global.WebSocket;
  onCleanup(() => {
    if (had) global.WebSocket = saved;
  });
}

function assertNoWebSocket(err: unknown, url: string): void {
  assert.ok(err instanceof ConnectError, String(err));
  assert.equal(err.kind, 'unsupported');
  assert.equal(err.url, url);
  assert.match(err.message, /no WebSocket/);
}

describe('the browser build where there is no WebSocket', () => {
  it('connect() rejects at once with a ConnectError of kind unsupported', async () => {
    withoutWebSocket();
    const server = await startServer();
    const started = Date.now();
    const err = await within(connect(server.url, { connectTimeout: 10_000 }).then(() => null, (e: unknown) => e), 1000, 'connect() rejecting');
    assertNoWebSocket(err, server.url);
    assert.ok(Date.now() - started < 1000);
  });

  it('reconnect() gives up after its first attempt, with that error as the cause', async () => {
    withoutWebSocket();
    const server = await startServer();
    const gaveUp = deferred<Error>();
    const attempts: string[] = [];
    const live = reconnect([server.url, server.url.replace('/ws', '/other')], {
      backoff: { initial: 10, max: 10, jitter: 0 },
      onAttempt: (_n, url) => attempts.push(url),
      onGiveUp: (err) => gaveUp.resolve(err),
    });
    onCleanup(() => live.close());
    const err = await within(gaveUp.promise, 2000, 'onGiveUp');
    assert.ok(err instanceof GaveUpError);
    assert.match(err.message, /gave up reconnecting: .*no WebSocket/);
    assertNoWebSocket(err.cause, server.url);
    await within(live.closed, 2000, 'live.closed');
    assert.equal(live.error, err);
    assert.deepEqual(attempts, [server.url]);
  });
});
