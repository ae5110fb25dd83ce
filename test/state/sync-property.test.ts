/**
 * The property that makes state sync correct: for random JSON values and
 * random edit sequences flushed at random points, what every client ends
 * with, applying our diffs with fast-json-patch, is exactly the server's
 * value; clients held back by congestion, clients joining late and
 * resumes from an old version included.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import fastJsonPatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import { InvalidArgumentError } from '../../src/errors.js';
import type { JsonValue } from '../../src/json.js';
import type { PathSegment } from '../../src/state/path.js';
import { StateChannel } from '../../src/state/state-channel.js';
import { changeLogOf, Storage } from '../../src/state/storage.js';
import { messageEncoder } from '../../src/transport/transport.js';
import { FakeSubscriber } from './support/fake-subscriber.js';

// Keys that need escaping or look like indexes, plus prototype-ish names
// (`__proto__` is left out only because fast-json-patch refuses it in paths).
const KEYS = ['a', 'b', 'c', '0', '', 'x/y', 'm~n', '~1', '-', 'constructor', 'prototype', 'toString'];

interface Step {
  pick: number;
  fresh: boolean;
  index: boolean;
}

type Command =
  | { kind: 'set'; steps: Step[]; recent: number | null; value: JsonValue }
  | { kind: 'remove'; steps: Step[]; recent: number | null }
  | { kind: 'flush' }
  | { kind: 'congest'; on: boolean; drain: boolean }
  | { kind: 'join'; extension: boolean }
  | { kind: 'resume'; pick: number };

const step = fc.record({ pick: fc.nat({ max: 60 }), fresh: fc.boolean(), index: fc.boolean() });
const steps = fc.array(step, { maxLength: 4 });
// Often a path used before: the same key changed again and again, added then removed, within one flush.
const recent = fc.option(fc.nat(), { freq: 2 });
const leaf = fc.jsonValue({ maxDepth: 1 }) as fc.Arbitrary<JsonValue>;
const small = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.dictionary(fc.constantFrom(...KEYS), leaf, { maxKeys: 3 }),
  fc.array(fc.oneof(leaf, fc.dictionary(fc.constantFrom(...KEYS), leaf, { maxKeys: 2 })), { maxLength: 4 }),
) as fc.Arbitrary<JsonValue>;
const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('set' as const), steps, recent, value: small }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('remove' as const), steps, recent }) },
  { weight: 3, arbitrary: fc.constant({ kind: 'flush' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('congest' as const), on: fc.boolean(), drain: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('join' as const), extension: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('resume' as const), pick: fc.nat() }) },
);
const scenario = fc.record({
  initial: fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.dictionary(fc.constantFrom(...KEYS), small, { maxKeys: 4 })) as fc.Arbitrary<JsonValue>,
  commands: fc.array(command, { maxLength: 50 }),
  slowExtension: fc.boolean(),
  autoflushDelay: fc.constantFrom(null, null, 0),
  framing: fc.constantFrom('segmented' as const, 'plain' as const),
  maxSegmentSize: fc.constantFrom(2, 7, 65536),
  // A tiny log bound exercises the whole-value fallbacks.
  maxOps: fc.constantFrom(3, 100_000, 100_000),
});

/** Turns random steps into a path that often hits what exists (keys of objects, indexes of arrays, one past the end). */
function resolve(data: JsonValue, path: Step[]): PathSegment[] {
  const segments: PathSegment[] = [];
  let node: JsonValue | undefined = data;
  for (const s of path) {
    let segment: PathSegment;
    if (Array.isArray(node)) {
      segment = s.pick % (node.length + 2);
      node = node[segment];
    } else {
      const keys: string[] = node !== null && typeof node === 'object' ? Object.keys(node).filter((k) => k !== '__proto__') : [];
      if (s.index) segment = s.pick % 3;
      else segment = !s.fresh && keys.length > 0 ? keys[s.pick % keys.length]! : KEYS[s.pick % KEYS.length]!;
      // fast-json-patch also refuses constructor/prototype in a path.
      if (segment === 'prototype' && segments.at(-1) === 'constructor') segment = 'b';
      const key: string = String(segment);
      node = node !== null && typeof node === 'object' && !Array.isArray(node) && Object.hasOwn(node, key) ? node[key] : undefined;
    }
    segments.push(segment);
  }
  return segments;
}

const copy = (value: JsonValue): JsonValue => JSON.parse(JSON.stringify(value)) as JsonValue;

describe('state sync (property)', () => {
  it('every client ends with exactly the server value, whatever the edits and flush points', function () {
    this.timeout(60_000);
    let resumesChecked = 0;
    fc.assert(
      fc.property(scenario, ({ initial, commands, slowExtension, autoflushDelay, framing, maxSegmentSize, maxOps }) => {
        // Clones: the storage takes over (and changes) what it is given, and fast-check reuses its values.
        const storage = new Storage(structuredClone(initial), { log: { maxOps } });
        // A client that cannot apply a diff throws from sendEncoded; the channel reports it here.
        const errors: unknown[] = [];
        const onError = (err: unknown): void => void errors.push(err);
        const channel = new StateChannel(storage, { autoflushDelay, encode: messageEncoder({ maxSegmentSize, framing }), historySize: 8, onError });
        const options = { framing };
        const clients = [new FakeSubscriber(false, options), new FakeSubscriber(true, options)];
        const slow = new FakeSubscriber(slowExtension, options);
        for (const client of [...clients, slow]) channel.join(client);
        const versions = new Map<string, JsonValue>([[channel.version, copy(storage.data)]]);
        // With autoflushDelay 0 the channel flushes inside the change, before onChange callbacks run.
        storage.onChange(() => {
          if (!channel.pending) versions.set(channel.version, copy(storage.data));
        });
        let flushed = copy(storage.data);

        // Whether the slow client has been caught up since it was last congested.
        let slowSynced = true;
        const check = (what: string): void => {
          if (errors.length > 0) throw errors[0];
          for (const client of clients) assert.deepStrictEqual(client.value, storage.data, what);
          if (slowSynced) assert.deepStrictEqual(slow.value, flushed, `${what} (slow client)`);
        };
        const afterFlush = (): void => {
          flushed = copy(storage.data);
          versions.set(channel.version, flushed);
          check('after flush');
        };

        const used: PathSegment[][] = [];
        const pathOf = (c: { steps: Step[]; recent: number | null }): PathSegment[] => {
          if (c.recent !== null && used.length > 0) return used[used.length - 1 - (c.recent % Math.min(used.length, 4))]!;
          const path = resolve(storage.data, c.steps);
          used.push(path);
          return path;
        };

        for (const c of commands) {
          switch (c.kind) {
            case 'set': {
              const path = pathOf(c);
              // A recent path may now run a string step into an array; that throws and changes nothing.
              const before = JSON.stringify(storage.data);
              try {
                storage.set(path, structuredClone(c.value));
              } catch (err) {
                assert.ok(err instanceof InvalidArgumentError, String(err));
                assert.equal(JSON.stringify(storage.data), before);
              }
              break;
            }
            case 'remove':
              storage.remove(pathOf(c));
              break;
            case 'flush':
              channel.flush();
              // A held-back client that has room again is caught up by any flush.
              slowSynced = !slow.congested;
              afterFlush();
              break;
            case 'congest':
              if (c.on) {
                slow.congested = true;
                slowSynced = false;
              } else if (slow.congested) {
                slow.congested = false;
                if (c.drain) {
                  channel.drained(slow);
                  slowSynced = true;
                  // A catch-up the log could not serve flushed first.
                  if (!channel.pending) afterFlush();
                  assert.deepStrictEqual(slow.value, flushed, 'after drained');
                }
              }
              break;
            case 'join': {
              const client = new FakeSubscriber(c.extension, options);
              channel.join(client);
              clients.push(client);
              afterFlush();
              break;
            }
            case 'resume': {
              if (channel.pending) break;
              const known = [...versions.keys()];
              const version = known[c.pick % known.length]!;
              const diff = channel.diffFromVersion(version);
              if (diff === undefined) break;
              resumesChecked += 1;
              const patch = JSON.parse(diff) as Operation[];
              const value = fastJsonPatch.applyPatch(copy(versions.get(version)!), patch, false, true).newDocument as JsonValue;
              assert.deepStrictEqual(value, storage.data, `resume from ${version}`);
              break;
            }
          }
        }
        slow.congested = false;
        channel.flush();
        slowSynced = true;
        afterFlush();
        channel.drained(slow);
        check('at the end');
        assert.deepStrictEqual(slow.value, storage.data, 'slow client at the end');
        // Coalesced or empty diffs skip versions, but the last one a client got names the value it has.
        for (const client of [...clients, slow]) {
          if (client.extension) assert.deepStrictEqual(versions.get(client.version!), storage.data, `version ${client.version}`);
        }
        channel.close();
        assert.equal(changeLogOf(storage).size, 0, 'a closed channel leaves nothing in the log');
      }),
      { numRuns: 1000 },
    );
    assert.ok(resumesChecked > 50, `only ${resumesChecked} resumes were checked`);
  });
});
