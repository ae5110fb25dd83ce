/**
 * Many half-sent messages across connections: `maxBufferedBytes` bounds
 * them all together. Past it, the connection holding the most is closed
 * with 1009 and the others (and a bystander) keep working; the server's
 * memory stays bounded. Both kinds of holding count: segments the
 * transport keeps of an incomplete message, and a frame ws is still
 * receiving. In a server of its own (a child process) so RSS means
 * something.
 */
import assert from 'node:assert/strict';
import { Bystander } from '../support/bystander.js';
import { frame, RawSocket } from '../support/raw-socket.js';
import { MB, ServerProcess } from '../support/server-process.js';
import { waitFor } from '../support/wait.js';

const MAX_MESSAGE = 4 * MB;
const MAX_BUFFERED = 8 * MB;

/** `bytes` of an incomplete juggler message, in 64 KiB continuation segments. */
function segments(bytes: number): Buffer {
  const one = frame('1' + 'x'.repeat(64 * 1024 - 1));
  return Buffer.concat(Array.from({ length: Math.round(bytes / one.length) }, () => one));
}

/** The start of one WebSocket frame announcing `total` payload bytes, with only `sent` of them. */
function partialFrame(total: number, sent: number): Buffer {
  const head = Buffer.alloc(14);
  head[0] = 0x81;
  head[1] = 0x80 | 127;
  head.writeBigUInt64BE(BigInt(total), 2);
  // A zero mask: the payload goes out as is.
  return Buffer.concat([head, Buffer.from('0' + 'y'.repeat(sent - 1))]);
}

async function written(raw: RawSocket, bytes: Buffer): Promise<void> {
  if (!raw.socket.write(bytes)) await new Promise((resolve) => raw.socket.once('drain', resolve));
}

describe('hostile input: many half-sent messages (maxBufferedBytes)', function () {
  this.timeout(60_000);

  it('closes the largest holder with 1009 past the total; the others and a bystander keep working; RSS stays bounded', async () => {
    const server = await ServerProcess.start({ shared: {}, options: { maxMessageSize: MAX_MESSAGE, maxBufferedBytes: MAX_BUFFERED, autoflushDelay: 0 } });
    const bystander = await Bystander.join(server.url);
    await bystander.check();
    const rssBefore = (await server.heap()).rss;

    // Five connections holding 1.0 to 1.8 MB each (7 MB): the one at 1.4 MB as a frame ws is still receiving.
    const sizes = [1.0, 1.2, 1.4, 1.6, 1.8].map((m) => Math.round(m * MB));
    const attackers: RawSocket[] = [];
    for (const [i, size] of sizes.entries()) {
      const raw = RawSocket.open(server.port);
      await raw.upgraded();
      await written(raw, i === 2 ? partialFrame(3 * MB, size) : segments(size));
      attackers.push(raw);
    }
    const sum = sizes.reduce((a, b) => a + b, 0);
    await waitFor(async () => (await server.buffered()) >= sum - 64 * 1024, 'the server to hold every partial message', 20_000, 50);
    assert.ok((await server.buffered()) < MAX_BUFFERED);
    await bystander.check();

    // One more, 1.5 MB: past 8 MB. The 1.8 MB holder goes, nobody else.
    const last = RawSocket.open(server.port);
    await last.upgraded();
    await written(last, segments(1.5 * MB));
    const outcome = await attackers[4]!.waitEnd(20_000);
    assert.equal(outcome.code, 1009);
    assert.match(outcome.reason, /maxBufferedBytes/);
    await waitFor(async () => (await server.connections()) === 6, 'the largest holder to be gone', 10_000);
    const held = await server.buffered();
    assert.ok(held <= MAX_BUFFERED && held >= sum - sizes[4]! - 64 * 1024, `${held} bytes held`);

    // The others are still open and still read: a ping mid-message is answered.
    for (const [i, raw] of [...attackers.slice(0, 4), last].entries()) {
      assert.equal(raw.outcome.ended, false, `attacker ${i} still open`);
      if (i === 2) continue; // mid-frame: no room for a ping
      raw.write(frame('2p' + i));
      await raw.nextText((t) => t === '3p' + i, 10_000);
    }
    await bystander.check();

    // Completing a message releases what it held.
    attackers[0]!.write(frame('0"done"'));
    assert.equal((await attackers[0]!.waitEnd()).code, 1002);
    for (const raw of attackers) raw.destroy();
    last.destroy();
    await waitFor(async () => (await server.connections()) === 1, 'the attackers to be gone', 10_000);
    assert.equal(await server.buffered(), 0);
    await bystander.check();
    const rssAfter = (await server.heap()).rss;
    // What the attack could make the server hold: the 8 MB bound, plus allocator slack; never the 4 MB x 6 they asked for.
    assert.ok(rssAfter - rssBefore < 3 * MAX_BUFFERED, `RSS grew by ${((rssAfter - rssBefore) / MB).toFixed(1)} MB`);
  });
});
