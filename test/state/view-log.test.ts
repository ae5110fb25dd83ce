/**
 * Views over an asynchronous replicated log (the in-memory stand-in for
 * the cluster's): two nodes apply one stream, each with subscribers in
 * their own views; every subscriber holds its node's value restricted to
 * its view, the nodes hold equal values, and no frame carries a marker
 * from outside the view it went to.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { JsonValue } from '../../src/json.js';
import type { StateEntry } from '../../src/state/state-log.js';
import { storageOnLog } from '../../src/state/storage.js';
import { channelFor, closeChannels } from './support/channel-for.js';
import { FakeSubscriber } from './support/fake-subscriber.js';
import { assertNoMarkerOutside, jsonValue, marked } from './support/markers.js';
import { MemoryStream } from './support/memory-log.js';
import { restrict } from './support/restrict.js';

const decoder = new TextDecoder();
const frameText = (frame: readonly (string | Uint8Array)[]): string => frame.map((x) => (typeof x === 'string' ? x : decoder.decode(x))).join('');

type View = string[][] | null;

describe('views on a replicated log', () => {
  afterEach(closeChannels);

  it('property: two nodes, subscribers with views on each; restricted values equal the node value, no marker from outside', async () => {
    const key = fc.constantFrom('a', 'b', 'c');
    const path = fc.array(fc.oneof(key, fc.constantFrom(0, 1)), { minLength: 0, maxLength: 3 });
    const value = jsonValue(key);
    const view: fc.Arbitrary<View> = fc.option(fc.array(fc.array(key, { minLength: 1, maxLength: 3 }), { maxLength: 3 }), { nil: null, freq: 6 });
    const write = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), path, value }),
      fc.record({ kind: fc.constant('remove' as const), path }),
    );
    // A round: which node writes, the writes of one entry, and whether a subscriber changes its view after it.
    const round = fc.record({ writer: fc.nat(1), writes: fc.array(write, { minLength: 1, maxLength: 3 }), switch: fc.option(fc.record({ who: fc.nat(5), view })) });
    await fc.assert(
      fc.asyncProperty(value, fc.array(view, { minLength: 6, maxLength: 6 }), fc.array(round, { maxLength: 12 }), async (initial, views, rounds) => {
        const stream = new MemoryStream();
        const start = marked(initial, []);
        const logs = [stream.node(structuredClone(start)), stream.node(structuredClone(start))];
        const storages = logs.map((log) => storageOnLog(log));
        const channels = storages.map((s) => channelFor(s));
        // Subscribers 0-2 on node 0, 3-5 on node 1.
        const subs = views.map((v, i) => {
          const sub = new FakeSubscriber(i % 2 === 0, { keepFrames: true });
          channels[i < 3 ? 0 : 1]!.join(sub, null, v);
          return sub;
        });
        const current = [...views];
        const seen = subs.map(() => 0);
        const check = (): void => {
          assert.deepEqual(storages[0]!.data, storages[1]!.data);
          assert.equal(channels[0]!.version, channels[1]!.version);
          subs.forEach((sub, i) => {
            for (const frame of sub.frames.slice(seen[i])) assertNoMarkerOutside(frameText(frame), current[i]!);
            seen[i] = sub.frames.length;
            assert.deepEqual(sub.value, restrict(storages[i < 3 ? 0 : 1]!.data, current[i]!));
          });
        };
        for (const r of rounds) {
          const entry: StateEntry = r.writes.map((w) => (w.kind === 'set' ? { kind: 'set', path: w.path, value: marked(w.value, w.path) } : w));
          await logs[r.writer]!.submit(entry);
          for (const channel of channels) channel.flush();
          check();
          if (r.switch !== null) {
            const { who, view: next } = r.switch;
            current[who] = next;
            channels[who < 3 ? 0 : 1]!.setView(subs[who]!, next);
            check();
          }
        }
        // A version from one node resumes within a view on the other: the view's value, nothing more.
        const source = subs[0]!;
        const late = new FakeSubscriber(true, { keepFrames: true });
        late.value = structuredClone(source.value);
        channels[1]!.join(late, source.version, current[0]!);
        for (const frame of late.frames) assertNoMarkerOutside(frameText(frame), current[0]!);
        assert.deepEqual(late.value, restrict(storages[1]!.data, current[0]!));
        for (const channel of channels) channel.close();
      }),
      { numRuns: 150 },
    );
  });
});
