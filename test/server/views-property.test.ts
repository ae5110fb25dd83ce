/**
 * Secrecy of views as a property over real sockets: random states, random
 * views per connection (raw plain clients and our extension client),
 * random changes; after each flush every connection's state equals the
 * server value restricted to its view, and no frame it received carries a
 * marker written outside its view.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { JsonValue } from '../../src/json.js';
import { Storage, type Connection } from '../../src/index.js';
import { connectTo } from '../support/client-helpers.js';
import { RawClient } from '../support/raw-client.js';
import { startServer } from '../support/server.js';
import { waitFor } from '../support/wait.js';
import { restrict } from '../state/support/restrict.js';
import { assertNoMarkerOutside, jsonValue, marked } from '../state/support/markers.js';
import fastJsonPatch from 'fast-json-patch';

const key = fc.constantFrom('a', 'b', 'c');
const path = fc.array(fc.oneof(key, fc.constantFrom(0, 1)), { maxLength: 3 });
const view = fc.array(fc.array(key, { minLength: 1, maxLength: 3 }), { maxLength: 3 });
const op = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), path, value: jsonValue(key) }),
  fc.record({ kind: fc.constant('remove' as const), path }),
);

describe('views over real sockets (property)', function () {
  this.timeout(60_000);

  it('every connection holds its restricted value and receives no marker from outside its view', async () => {
    await fc.assert(
      fc.asyncProperty(jsonValue(key), fc.array(view, { minLength: 3, maxLength: 3 }), fc.array(fc.array(op, { maxLength: 4 }), { maxLength: 6 }), async (initial, views, rounds) => {
        const state = new Storage(marked(initial, []));
        let n = 0;
        const server = await startServer({ state, autoflushDelay: null, view: () => views[n++ % views.length]! });
        try {
          // Two raw plain clients and one of ours on the extension; each joins in turn so n picks its view.
          const raws: RawClient[] = [];
          for (let i = 0; i < 2; i++) {
            raws.push(await RawClient.connect(server.url));
            await waitFor(() => [...server.connections].length === i + 1 && [...server.connections].every((c) => c.view !== null), 'joined');
          }
          const ours = await connectTo(server.url);
          const conns = [...server.connections] as Connection[];
          const rawValues: JsonValue[] = [null, null];
          for (const round of rounds) {
            for (const o of round) {
              try {
                if (o.kind === 'set') state.set(o.path, marked(o.value, o.path));
                else state.remove(o.path);
              } catch (err) {
                if ((err as Error).name !== 'InvalidArgumentError') throw err;
              }
            }
            await conns[0]!.flush();
            // An echo round trip on each: everything sent before it has arrived.
            for (const [i, raw] of raws.entries()) {
              const id = 1000 + raw.messages.length;
              raw.request(id, '', null);
              await raw.response(id);
              rawValues[i] = raw.messages.filter((m) => m.type === 'state').reduce((value, m) => fastJsonPatch.applyPatch(value, m.diff, false, false).newDocument, null as JsonValue);
            }
            await ours.send('', null);
            for (const [i, raw] of raws.entries()) {
              assert.deepEqual(rawValues[i], restrict(state.data, views[i]!));
              assertNoMarkerOutside(raw.frames.join('\n'), views[i]!);
            }
            assert.deepEqual(ours.state, restrict(state.data, views[2]!));
          }
          assert.deepEqual(conns.map((c) => c.view !== null), [true, true, true]);
        } finally {
          await server.close();
        }
      }),
      { numRuns: 40 },
    );
  });
});
