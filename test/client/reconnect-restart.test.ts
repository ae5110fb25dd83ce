/**
 * reconnect() behind a TCP proxy whose server stops and a new one starts
 * on the same port: the client must come back to the new server.
 */
import assert from 'node:assert/strict';
import { listen, Storage, type Server } from '../../src/index.js';
import { reconnectTo } from '../support/client-helpers.js';
import { onCleanup } from '../support/cleanup.js';
import { startProxy } from '../support/tcp-proxy.js';
import { waitFor } from '../support/wait.js';

const FAST = { initial: 20, max: 40, jitter: 0 };

async function serverOn(port: number, value: string): Promise<Server> {
  const state = new Storage();
  state.set([], value);
  const server = await listen({ host: '127.0.0.1', port, state, onError: () => {} });
  onCleanup(() => server.close());
  return server;
}

describe('reconnect() behind a proxy, across a server restart on the same port', () => {
  for (const how of ['close', 'drain'] as const) {
    it(`comes back to the new server after ${how}()`, async () => {
      const first = await serverOn(0, 'first');
      const port = first.port;
      const proxy = await startProxy(port);
      const attempts: string[] = [];
      const live = reconnectTo(proxy.url(), { backoff: FAST, onAttempt: (n, url) => attempts.push(`${n} ${url}`) });
      await waitFor(() => live.connected && live.state === 'first', 'the first server');
      if (how === 'close') await first.close();
      else {
        await first.drain({ timeout: 10 });
        await first.close();
      }
      await waitFor(() => !live.connected, 'the drop');
      const second = await serverOn(port, 'second');
      await waitFor(() => live.connected && live.state === 'second', 'the second server', 3000);
      assert.equal([...second.connections].length, 1);
    });
  }

  it('comes back when the new server starts only after several failed attempts through the proxy', async () => {
    const first = await serverOn(0, 'first');
    const port = first.port;
    const proxy = await startProxy(port);
    let attempts = 0;
    const live = reconnectTo(proxy.url(), { backoff: FAST, onAttempt: () => (attempts += 1) });
    await waitFor(() => live.connected && live.state === 'first', 'the first server');
    await first.close();
    await waitFor(() => !live.connected, 'the drop');
    // Each of these reached the proxy, which found nothing behind it and cut the client's socket.
    const before = attempts;
    await waitFor(() => attempts >= before + 4, 'four failed attempts');
    assert.equal(live.connected, false);
    await serverOn(port, 'second');
    await waitFor(() => live.connected && live.state === 'second', 'the second server', 3000);
    assert.ok(proxy.connections.length >= 5, `${proxy.connections.length} proxied connections`);
  });
});
