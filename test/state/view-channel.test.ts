import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { JsonValue } from '../../src/json.js';
import { Storage } from '../../src/state/storage.js';
import { channelFor, closeChannels } from './support/channel-for.js';
import { FakeSubscriber } from './support/fake-subscriber.js';
import { restrict } from './support/restrict.js';
import { assertNoMarkerOutside, jsonValue, marked } from './support/markers.js';

const decoder = new TextDecoder();
const textOf = (sub: FakeSubscriber): string => sub.frames.map((f) => f.map((x) => (typeof x === 'string' ? x : decoder.decode(x))).join('')).join('\n');

function ignoreRefusal(write: () => void): void {
  try {
    write();
  } catch (err) {
    if ((err as Error).name !== 'InvalidArgumentError') throw err;
  }
}

describe('StateChannel with views', () => {
  afterEach(closeChannels);

  it('a joiner gets only its view, {} when nothing of it exists, null when the value is no object', () => {
    const s = new Storage({ sites: { a: { t: 1 }, b: { t: 2, secret: 'B' } }, alarms: [1] });
    const channel = channelFor(s);
    const a = new FakeSubscriber();
    const none = new FakeSubscriber();
    channel.join(a, null, [['sites', 'a'], ['alarms']]);
    channel.join(none, null, [['sites', 'zz']]);
    assert.deepEqual(a.value, { sites: { a: { t: 1 } }, alarms: [1] });
    assert.deepEqual(none.value, {});
    const t = new Storage([1, 2]);
    const c2 = channelFor(t);
    const x = new FakeSubscriber(true);
    c2.join(x, null, [['a']]);
    assert.equal(x.value, null);
  });

  it('routes a change only to the views it touches, and equal views share frames', () => {
    const s = new Storage({ sites: { a: { t: 1 }, b: { t: 2 } } });
    const channel = channelFor(s);
    const a1 = new FakeSubscriber(false, { keepFrames: true });
    const a2 = new FakeSubscriber(false, { keepFrames: true });
    const b = new FakeSubscriber(false, { keepFrames: true });
    // Same view, given in another order and with a path under another: one canonical key.
    channel.join(a1, null, [['sites', 'a']]);
    channel.join(a2, null, [['sites', 'a', 't'], ['sites', 'a'], ['sites', 'a']]);
    channel.join(b, null, [['sites', 'b']]);
    s.set(['sites', 'a', 't'], 5);
    channel.flush();
    assert.deepEqual(a1.value, { sites: { a: { t: 5 } } });
    assert.equal(a1.frames.at(-1), a2.frames.at(-1));
    assert.equal(b.frames.length, 1, 'b got nothing for a change outside its view');
    assert.deepEqual(channel.viewOf(a2), [['sites', 'a']]);
  });

  it('keeps secrets when a parent is replaced or removed, a path appears or disappears', () => {
    const s = new Storage({ sites: { a: { t: 1 }, b: { secret: 'S1' } } });
    const channel = channelFor(s);
    const a = new FakeSubscriber(true, { keepFrames: true });
    channel.join(a, null, [['sites', 'a']]);
    const check = (): void => {
      channel.flush();
      assert.deepEqual(a.value, restrict(s.data, [['sites', 'a']]));
      assert.doesNotMatch(textOf(a), /S\d|"b"/);
    };
    s.set('sites', { a: { t: 2 }, b: { secret: 'S2' } });
    check();
    s.remove(['sites', 'a']);
    check();
    assert.deepEqual(a.value, {});
    s.set(['sites', 'a', 'deep', 'x'], 1);
    s.set(['sites', 'b', 'more'], 'S3');
    check();
    s.set([], { sites: { a: 1, b: 'S4' } });
    check();
    s.set([], ['S5']);
    check();
    assert.equal(a.value, null);
    s.set([], { sites: { a: [1, 2], c: 'S6' } });
    check();
    s.set(['sites', 'a', 5], 'x');
    check();
  });

  it('setView sends one diff from the old view to the new one', () => {
    const s = new Storage({ sites: { a: { t: 1, u: 2 }, b: { t: 3 } }, x: 1 });
    const channel = channelFor(s);
    const sub = new FakeSubscriber(true);
    channel.join(sub, null, [['sites', 'a']]);
    s.set(['sites', 'a', 't'], 9);
    const views = [[['sites', 'a', 'u'], ['sites', 'b']], [['sites']], null, [['x']], [], [['sites', 'b', 't'], ['sites', 'a']]];
    for (const view of views) {
      const before = sub.messages.length;
      channel.setView(sub, view);
      assert.deepEqual(sub.value, restrict(s.data, view));
      assert.ok(sub.messages.length - before <= 2, 'the pending diff and one view diff');
    }
    assert.throws(() => channel.setView(sub, [['sites', 0 as never]]), { name: 'InvalidArgumentError', message: /^paths\[0\]\[1\]/ });
  });

  it('resumes within a view: one diff, nothing when empty, the view when a path was replaced', () => {
    const s = new Storage({ sites: { a: { t: 1 }, b: { t: 2 } } });
    const channel = channelFor(s);
    const keep = new FakeSubscriber(true);
    channel.join(keep);
    const first = new FakeSubscriber(true);
    channel.join(first, null, [['sites', 'a']]);
    const version = channel.version;
    s.set(['sites', 'b', 't'], 3);
    channel.flush();
    const quiet = new FakeSubscriber(true);
    quiet.value = structuredClone(first.value);
    channel.join(quiet, version, [['sites', 'a']]);
    assert.equal(quiet.messages.length, 0);
    s.set(['sites', 'a', 't'], 4);
    channel.flush();
    const one = new FakeSubscriber(true);
    one.value = structuredClone(first.value);
    channel.join(one, version, [['sites', 'a']]);
    assert.deepEqual(one.messages.map((m) => m.diff), [[{ op: 'replace', path: '/sites/a/t', value: 4 }]]);
  });

  it('a flush visits only the views it touches; a held-back member is caught up once, whichever view the flush touched', () => {
    const s = new Storage({ sites: { a: { t: 1 }, b: { t: 2 } }, all: 0 });
    const channel = channelFor(s);
    const a = new FakeSubscriber(true);
    const b = new FakeSubscriber(true);
    const everything = new FakeSubscriber(true);
    channel.join(a, null, [['sites', 'a']]);
    channel.join(b, null, [['sites', 'b']]);
    channel.join(everything);
    // b is congested while only a's part changes: nothing to hold back, nothing sent.
    b.congested = true;
    s.set(['sites', 'a', 't'], 5);
    channel.flush();
    b.congested = false;
    channel.drained(b);
    assert.equal(b.messages.length, 1);
    // a is held back over a change of its part, then catches up while a flush touches b only.
    a.congested = true;
    s.set(['sites', 'a', 't'], 6);
    channel.flush();
    a.congested = false;
    s.set(['sites', 'b', 't'], 7);
    channel.flush();
    assert.equal(a.messages.length, 3, 'the join, one flush, one catch-up');
    assert.deepEqual(a.messages.slice(1).map((m) => m.diff), [
      [{ op: 'replace', path: '/sites/a/t', value: 5 }],
      [{ op: 'replace', path: '/sites/a/t', value: 6 }],
    ]);
    for (const [sub, view] of [[a, [['sites', 'a']]], [b, [['sites', 'b']]], [everything, null]] as const) assert.deepEqual(sub.value, restrict(s.data, view as string[][] | null));
    assert.equal(everything.messages.length, 4);
  });

  it('property: every subscriber always holds the value restricted to its view, and no marker from outside it', () => {
    const key = fc.constantFrom('a', 'b', 'c');
    const path = fc.array(fc.oneof(key, fc.constantFrom(0, 1)), { minLength: 0, maxLength: 3 });
    const value = jsonValue(key);
    const view = fc.option(fc.array(fc.array(key, { minLength: 1, maxLength: 3 }), { maxLength: 3 }), { nil: null, freq: 5 });
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), path, value }),
      fc.record({ kind: fc.constant('remove' as const), path }),
      fc.record({ kind: fc.constant('flush' as const) }),
      fc.record({ kind: fc.constant('view' as const), who: fc.nat(3), view }),
    );
    fc.assert(
      fc.property(value, fc.array(view, { minLength: 4, maxLength: 4 }), fc.array(op, { maxLength: 25 }), (initial, views, ops) => {
        const s = new Storage(marked(initial, []));
        const channel = channelFor(s);
        const subs = views.map((_, i) => new FakeSubscriber(i % 2 === 0, { keepFrames: true }));
        subs.forEach((sub, i) => channel.join(sub, null, views[i]!));
        const current = [...views];
        const seen = subs.map(() => 0);
        const check = (): void =>
          subs.forEach((sub, i) => {
            for (const frame of sub.frames.slice(seen[i])) assertNoMarkerOutside(textOf({ frames: [frame] } as FakeSubscriber), current[i]!);
            seen[i] = sub.frames.length;
          });
        for (const o of ops) {
          // A string step into an array is refused, as the storage always does: nothing changes then.
          if (o.kind === 'set') ignoreRefusal(() => s.set(o.path, marked(o.value, o.path)));
          else if (o.kind === 'remove') s.remove(o.path);
          else if (o.kind === 'view') {
            channel.flush();
            check();
            current[o.who] = o.view;
            channel.setView(subs[o.who]!, o.view);
          } else channel.flush();
          if (o.kind === 'flush' || o.kind === 'view') {
            check();
            subs.forEach((sub, i) => assert.deepEqual(sub.value, restrict(s.data, current[i]!)));
          }
        }
        channel.close();
      }),
      { numRuns: 400 },
    );
  });
});
