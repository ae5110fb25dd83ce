/**
 * Slow and dead peers. A client that stops reading while the shared state
 * changes thousands of times a second must not make the server buffer
 * without bound: its diffs are held back and coalesced (it later gets one
 * diff, or the whole value, from what it last got), and once it reads again
 * its state equals the server's exactly. A peer that vanishes without a
 * close (stops reading, or dies silently behind the network) is dropped by
 * the keepalive within pingDelay + pingTimeout, and what it held is freed.
 */
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { Storage } from '../../src/index.js';
import { Bystander, bumpHandler } from '../support/bystander.js';
import { RawClient } from '../support/raw-client.js';
import { MB, retained, ServerProcess } from '../support/server-process.js';
import { startServer } from '../support/server.js';
import { startProxy } from '../support/tcp-proxy.js';
import { delay, waitFor, within } from '../support/wait.js';
import { changeLogOf } from '../../src/state/storage.js';

const socketOf = (client: RawClient): Socket => (client.ws as unknown as { _socket: Socket })._socket;

describe('slow and dead peers', function () {
  this.timeout(60_000);

  describe('a client that stops reading', () => {
    for (const [what, log, value, seconds, limit] of [
      // The change log outgrows its bound (4 MiB here): the client is caught up with the whole value.
      ['past the change log bound', { maxBytes: 4 * MB }, 4000, 4, 12 * MB],
      // Within the bound (32 Mi by default): one compacted diff from what it last got.
      ['within the change log bound', {}, 3000, 2, 24 * MB],
    ] as const) {
      it(`keeps server memory bounded and ends equal to the server, ${what}`, async () => {
        const server = await ServerProcess.start({ shared: {}, log, options: { autoflushDelay: 0, sendQueueSize: 16 } });
        const slow = await Bystander.join(server.url);
        const fast = await Bystander.join(server.url);
        await slow.check();
        await fast.check();
        const before = retained(await server.heap());
        socketOf(slow.client).pause();
        // 10 changes every 5 ms (~2000 a second) over 50 keys.
        await server.command('churn-start', { every: 5, perTick: 10, keys: 50, size: value });
        const growth: number[] = [];
        for (let i = 0; i < seconds * 2; i++) {
          await delay(500);
          growth.push(retained(await server.heap()) - before);
        }
        const changes = await server.command<number>('churn-stop');
        const produced = changes * value;
        const text = growth.map((g) => (g / MB).toFixed(1)).join(', ');
        assert.ok(Math.max(...growth) < limit, `the server grew by ${text} MB while ${(produced / MB).toFixed(0)} MB of changes were made`);
        // The reader that keeps up is not held back by the one that does not.
        await fast.check();
        socketOf(slow.client).resume();
        const { shared } = await server.state();
        await waitFor(() => JSON.stringify(slow.state) === JSON.stringify(shared), 'the slow client to catch up', 20_000, 20);
        assert.deepStrictEqual(slow.state, shared);
        assert.deepStrictEqual(fast.state, shared);
        // With autoflushDelay 0 each change goes out alone, as one operation; what was held back
        // comes as one message: the whole value past the log's bound, else one compacted diff.
        const diffs = slow.client.messages.filter((m) => m.type === 'state').slice(1);
        const catchUps = diffs.filter((m) => m.diff.length > 1 || m.diff[0].path === '');
        assert.ok(diffs.length < changes, `${diffs.length} state messages for ${changes} changes`);
        assert.ok(catchUps.length >= 1 && catchUps.length <= 3, `${catchUps.length} catch-up messages`);
        const wholeValue = catchUps.some((m) => m.diff[0].path === '');
        assert.equal(wholeValue, what.startsWith('past'), 'whole value past the bound, a diff within it');
        // Compacted: each path at most once (50 churned keys, and the bystander's 'bump').
        for (const m of wholeValue ? [] : catchUps) {
          const paths: string[] = m.diff.map((op: { path: string }) => op.path);
          assert.ok(new Set(paths).size === paths.length && paths.length <= 51, `a catch-up of ${paths.length} operations`);
        }
        await slow.check();
      });
    }
  });

  describe('a peer that vanishes without a close', () => {
    const PING_DELAY = 200;
    const PING_TIMEOUT = 200;
    // Timers fire late on a loaded machine; the keepalive must not be later than this.
    const MARGIN = 800;

    async function setup() {
      const state = new Storage({});
      const server = await startServer({ state, autoflushDelay: 0, pingDelay: PING_DELAY, pingTimeout: PING_TIMEOUT, onRequest: bumpHandler });
      const proxy = await startProxy(server.port);
      return { server, state, proxy };
    }

    for (const how of ['stops reading', 'dies silently, its packets lost', 'dies silently, its window shut'] as const) {
      it(`is dropped within pingDelay + pingTimeout when it ${how}, while the state keeps changing`, async () => {
        const { server, state, proxy } = await setup();
        const peer = await RawClient.connect(`ws://127.0.0.1:${proxy.port}/ws`);
        await waitFor(() => [...server.connections].length === 1, 'the peer\'s connection');
        const conn = [...server.connections][0]!;
        const bystander = await Bystander.join(server.url);
        peer.request(1, 'echo', 'x'.repeat(10_000));
        await peer.response(1);
        // Changes keep going to the dead peer until the keepalive gives up on it.
        const churn = setInterval(() => state.set(['churn', String(Date.now() % 20)], 'y'.repeat(20_000)), 2);
        try {
          const since = Date.now();
          if (how === 'stops reading') socketOf(peer).pause();
          else proxy.vanish(how.endsWith('lost') ? 'drop' : 'stall');
          await within(conn.closed, PING_DELAY + PING_TIMEOUT + MARGIN + 1000, 'conn.closed');
          const elapsed = Date.now() - since;
          assert.ok(elapsed <= PING_DELAY + PING_TIMEOUT + MARGIN, `dropped after ${elapsed} ms`);
          assert.ok(elapsed >= PING_TIMEOUT, `dropped after ${elapsed} ms: too early for the keepalive`);
        } finally {
          clearInterval(churn);
        }
        assert.ok(![...server.connections].includes(conn), 'server.connections let it go');
        assert.equal([...server.connections].length, 1);
        assert.ok(server.errors.some((e) => e.kind === 'socket' && /no answer within 200 ms of a ping/.test(e.err.message)), 'told onError');
        // Nothing is held for it any more: the change log keeps no record once everyone has them.
        state.set('after', 1);
        assert.equal(changeLogOf(state).size, 0, 'change records kept for nobody');
        await bystander.check();
      });
    }

    it('keeps a peer that is silent but answers pings', async () => {
      const { server } = await setup();
      const bystander = await Bystander.join(server.url);
      await delay(3 * (PING_DELAY + PING_TIMEOUT));
      assert.equal([...server.connections].length, 1);
      assert.ok(bystander.client.frames.filter((f) => f === '2').length >= 2, 'it was pinged');
      await bystander.check();
    });
  });
});
