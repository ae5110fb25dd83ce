/**
 * Part of `npm run soak` (too slow for `npm test`, which checks every code
 * unit through the framing layer and a sample over the socket): every one
 * of the 65536 UTF-16 code units as the header of a frame, each on its own
 * raw connection, in batches of 64 at once. All but 0, 1, 2 and 3 close
 * with 1002; a bystander is served throughout.
 */
import assert from 'node:assert/strict';
import { Storage } from '../../src/index.js';
import { Bystander, bumpHandler } from '../support/bystander.js';
import { frame, rawBatch } from '../support/raw-socket.js';
import { startServer } from '../support/server.js';

describe('every UTF-16 code unit as a header, over the socket (all 65536)', function () {
  this.timeout(900_000);

  it('closes with 1002 for each but 0, 1, 2 and 3, and keeps serving the bystander', async () => {
    const server = await startServer({ state: new Storage({}), autoflushDelay: 0, onRequest: bumpHandler });
    const bystander = await Bystander.join(server.url);
    const wrong: string[] = [];
    const BATCH = 4096;
    for (let start = 0; start <= 0xffff; start += BATCH) {
      // '1', '2' and '3' keep the connection open (a partial message, a ping, a pong): checked in npm test.
      const units = Array.from({ length: BATCH }, (_, i) => start + i).filter((c) => c < 0x31 || c > 0x33);
      const outcomes = await rawBatch(server.port, units.length, (i) => frame(String.fromCharCode(units[i]!) + '{}'), { concurrency: 64 });
      outcomes.forEach((o, i) => {
        const c = units[i]!;
        const reason = c === 0x30 ? /no type/ : /unknown frame header/;
        if (o.status !== 101 || o.code !== 1002 || !reason.test(o.reason)) wrong.push(`U+${c.toString(16)}: ${o.status} ${o.code} ${o.reason}`);
      });
      await bystander.check();
    }
    assert.deepEqual(wrong, []);
  });
});
