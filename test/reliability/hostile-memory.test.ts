/**
 * Memory under hostile input, measured in a server of its own (a child
 * process with --expose-gc, so the test's clients are not in the figures):
 * what a partial message holds is bounded by maxMessageSize whatever the
 * segment sizes, and after rounds of attacks the heap is back near where
 * it started.
 *
 * How the check stays robust: the baseline is taken after one full warm-up
 * round of the same attacks (code compiled, caches and pools at their
 * working size), every figure is heapUsed + arrayBuffers after four forced
 * GCs, and a leak must show as growth over several further rounds, beyond
 * a tolerance far below what leaking the attacks' data would cost.
 */
import assert from 'node:assert/strict';
import { Bystander } from '../support/bystander.js';
import { frame, RawSocket } from '../support/raw-socket.js';
import { MB, retained, ServerProcess } from '../support/server-process.js';
import { waitFor } from '../support/wait.js';

const MAX = 2 * MB;

/** `count` copies of one small frame, as one buffer. */
function repeated(one: Buffer, count: number): Buffer {
  const out = Buffer.allocUnsafe(one.length * count);
  for (let i = 0; i < count; i++) one.copy(out, i * one.length);
  return out;
}

/** Writes everything, then a ping, and waits for its pong: the server has read it all. */
async function sendAll(raw: RawSocket, bytes: Buffer, marker: string): Promise<void> {
  for (let i = 0; i < bytes.length; i += 1024 * 1024) {
    if (!raw.socket.write(bytes.subarray(i, i + 1024 * 1024))) await new Promise((resolve) => raw.socket.once('drain', resolve));
  }
  raw.write(frame('2' + marker));
  await raw.nextText((t) => t === '3' + marker, 30_000);
}

async function startChild() {
  const server = await ServerProcess.start({ shared: {}, options: { maxMessageSize: MAX, autoflushDelay: 0 } });
  const bystander = await Bystander.join(server.url);
  await bystander.check();
  return { server, bystander };
}

describe('hostile input: server memory', function () {
  this.timeout(60_000);

  for (const [what, payload] of [
    ['two-character', 'ab'],
    ['one-character', 'a'],
    ['empty', ''],
  ] as const) {
    it(`holds a partial message of ${what} segments within ~1.5× maxMessageSize, and frees it`, async () => {
      const { server, bystander } = await startChild();
      const before = retained(await server.heap());
      const raw = RawSocket.open(server.port);
      await raw.upgraded();
      // Just under the cap, counting each empty segment as one byte.
      const count = Math.floor((MAX - 1024) / Math.max(payload.length, 1));
      await sendAll(raw, repeated(frame('1' + payload), count), 'read');
      const holding = retained(await server.heap()) - before;
      assert.ok(holding < 1.5 * MAX + 1 * MB, `${count} segments held ${(holding / MB).toFixed(1)} MB for a ${MAX / MB} MB cap`);
      // One more segment than the cap allows: 1009, and the partial message is dropped.
      raw.write(repeated(frame('1' + (payload || 'x')), 1100));
      const outcome = await raw.waitEnd(10_000);
      assert.equal(outcome.code, 1009);
      await bystander.check();
      await waitFor(async () => (await server.connections()) === 1, 'the connection to be gone');
      const after = retained(await server.heap()) - before;
      assert.ok(after < 1 * MB, `still ${(after / MB).toFixed(1)} MB after the close`);
    });
  }

  it('returns to its baseline after rounds of hostile connections, large and deep messages included', async () => {
    const { server, bystander } = await startChild();
    const big = JSON.stringify({ type: 'request', id: 1, name: 'echo', data: 'x'.repeat(MAX - 100) });
    const attacks: Buffer[] = [
      frame(''),
      frame('x{}'),
      frame(Buffer.from('0{}'), { opcode: 0x2 }),
      frame(Buffer.from([0x30, 0xff])),
      frame('0{"type":'),
      frame('0[1,2,3]'),
      frame('0{"type":"request","id":1.5,"name":"a","data":null}'),
      frame('0' + big),
      frame('0' + big + 'x'.repeat(200)),
      Buffer.concat([frame('1' + big.slice(0, MAX / 2)), frame('1' + big.slice(0, MAX / 2)), frame('1' + 'y'.repeat(1000))]),
      frame('0' + '['.repeat(500_000)),
      frame('0' + '['.repeat(500_000) + ']'.repeat(500_000)),
      frame(`0{"type":"request","id":2,"name":"echo","data":${'['.repeat(500_000) + ']'.repeat(500_000)}}`),
      repeated(frame('1ab'), 50_000),
      Buffer.concat([frame('0{', { fin: false })]),
    ];
    const round = async (): Promise<void> => {
      const sockets = attacks.map((bytes) => RawSocket.open(server.port, bytes));
      await bystander.check(20_000);
      // Some attacks leave the connection open (a valid big request, a partial message): end those.
      await new Promise((resolve) => setTimeout(resolve, 200));
      for (const raw of sockets) raw.destroy();
      await waitFor(async () => (await server.connections()) === 1, 'the attackers to be gone', 20_000, 20);
      await bystander.check();
    };
    await round();
    const baseline = retained(await server.heap());
    const figures: number[] = [];
    for (let i = 0; i < 4; i++) {
      await round();
      figures.push(retained(await server.heap()) - baseline);
    }
    const text = figures.map((f) => `${(f / MB).toFixed(2)} MB`).join(', ');
    // Each round pushes ~14 MB of hostile input through; leaking even a tenth of one round would show.
    assert.ok(Math.max(...figures) < 1.5 * MB, `growth over the baseline after each round: ${text}`);
  });
});
