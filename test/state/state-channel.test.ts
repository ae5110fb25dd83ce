import assert from 'node:assert/strict';
import type { JsonValue } from '../../src/json.js';
import { changeLogOf, stateLogOf, Storage } from '../../src/state/storage.js';
import { channelFor, closeChannels } from './support/channel-for.js';
import { FakeSubscriber } from './support/fake-subscriber.js';

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('StateChannel', () => {
  afterEach(closeChannels);

  describe('options', () => {
    it('refuses bad options, naming them', () => {
      const s = new Storage();
      assert.throws(() => channelFor(s, { autoflushDelay: -1 }), { name: 'InvalidArgumentError', message: /^options\.autoflushDelay/ });
      assert.throws(() => channelFor(s, { autoflushDelay: NaN }), { message: /^options\.autoflushDelay/ });
      assert.throws(() => channelFor(s, { maxSegmentSize: 0 }), { message: /^options\.maxSegmentSize/ });
      assert.throws(() => channelFor(s, { framing: 'other' as never }), { message: /^options\.framing/ });
      assert.throws(() => channelFor(s, { historySize: -1 }), { message: /^options\.historySize/ });
    });
  });

  describe('autoflushDelay', () => {
    it('positive is a throttle: changes every 5 ms go out about every 50 ms, never postponed', async function () {
      this.timeout(5000);
      const s = new Storage({ n: 0 });
      const channel = channelFor(s, { autoflushDelay: 50 });
      const client = new FakeSubscriber();
      channel.join(client);
      const arrivals: number[] = [];
      const original = client.sendEncoded.bind(client);
      client.sendEncoded = (frames) => {
        arrivals.push(performance.now());
        original(frames);
      };
      const start = performance.now();
      let n = 0;
      const ticker = setInterval(() => s.set('n', ++n), 5);
      await delay(320);
      clearInterval(ticker);
      await delay(80);
      assert.deepEqual(client.value, s.data);
      // A debounce would send once, after the changes stop; a throttle sends all along.
      assert.ok(arrivals.length >= 4 && arrivals.length <= 9, `${arrivals.length} flushes in 320 ms`);
      assert.ok(arrivals[0]! - start < 120, `first flush ${arrivals[0]! - start} ms after the first change`);
      for (let i = 1; i < arrivals.length; i++) {
        const gap = arrivals[i]! - arrivals[i - 1]!;
        assert.ok(gap >= 45, `flushes ${gap} ms apart`);
      }
    });

    it('0 sends each change at once, on its own', () => {
      const s = new Storage({});
      const channel = channelFor(s, { autoflushDelay: 0 });
      const client = new FakeSubscriber();
      channel.join(client);
      s.set('a', 1);
      assert.deepEqual(client.value, { a: 1 });
      s.set('a', 2);
      s.set(['b', 1], true);
      assert.equal(client.messages.length, 4, 'the join, then one message per change');
      assert.deepEqual(client.messages[3]!.diff, [{ op: 'add', path: '/b', value: [null, true] }]);
      assert.equal(channel.pending, false);
    });

    it('null sends only on flush()', async () => {
      const s = new Storage({});
      const channel = channelFor(s, { autoflushDelay: null });
      const client = new FakeSubscriber();
      channel.join(client);
      s.set('a', 1);
      s.set('a', 2);
      await delay(30);
      assert.equal(client.messages.length, 1);
      assert.equal(channel.pending, true);
      channel.flush();
      assert.deepEqual(client.messages[1]!.diff, [{ op: 'add', path: '/a', value: 2 }]);
      assert.equal(channel.pending, false);
    });

    it('no timer outlives close()', async () => {
      const s = new Storage({});
      const channel = channelFor(s, { autoflushDelay: 20 });
      const client = new FakeSubscriber();
      channel.join(client);
      s.set('a', 1);
      channel.close();
      channel.close();
      await delay(50);
      assert.equal(client.messages.length, 1, 'only the join');
      s.set('a', 2);
      channel.flush();
      assert.equal(client.messages.length, 1);
      assert.equal(changeLogOf(s).recording, false, 'the channel released the log');
    });
  });

  describe('#flush', () => {
    it('computes and encodes one diff for 1000 subscribers, who all get the very same frames', () => {
      const s = new Storage({ counter: 0 });
      const channel = channelFor(s);
      const clients = Array.from({ length: 1000 }, () => new FakeSubscriber(false, { keepFrames: true, decode: false }));
      for (const client of clients) channel.join(client);
      const before = { ...channel.stats };
      s.set('counter', 1);
      channel.flush();
      assert.equal(channel.stats.flushes - before.flushes, 1);
      assert.equal(channel.stats.diffsComputed - before.diffsComputed, 1);
      assert.equal(channel.stats.messagesEncoded - before.messagesEncoded, 1);
      assert.equal(channel.stats.wholeValueEncodings, 1, 'the joins serialized the value once');
      const frames = clients[0]!.frames.at(-1)!;
      assert.ok(frames.every((frame) => frame instanceof Uint8Array), 'encoded to bytes once for all');
      for (const client of clients) assert.equal(client.frames.at(-1), frames);
      assert.equal(new TextDecoder().decode(frames[0] as Uint8Array), '0{"type":"state","diff":[{"op":"replace","path":"/counter","value":1}]}');
    });

    it('builds each kind of message once: plain, and with a version for the extension', () => {
      const s = new Storage({ a: 0 });
      const channel = channelFor(s);
      const plain = [new FakeSubscriber(false), new FakeSubscriber(false)];
      const extension = [new FakeSubscriber(true), new FakeSubscriber(true)];
      for (const client of [...plain, ...extension]) channel.join(client);
      const encoded = channel.stats.messagesEncoded;
      s.set('a', 1);
      channel.flush();
      assert.equal(channel.stats.messagesEncoded - encoded, 2);
      for (const client of plain) assert.deepEqual(client.messages.at(-1), { type: 'state', diff: [{ op: 'replace', path: '/a', value: 1 }] });
      for (const client of extension) assert.deepEqual(client.messages.at(-1), { type: 'state', diff: [{ op: 'replace', path: '/a', value: 1 }], version: channel.version });
      assert.match(channel.version, /^[0-9a-f]{16}\.1$/);
    });

    it('sends strings to a single subscriber, cut into segments', () => {
      const s = new Storage({});
      const channel = channelFor(s, { maxSegmentSize: 10 });
      const client = new FakeSubscriber(false, { keepFrames: true });
      channel.join(client);
      s.set('key', 'a longer value');
      channel.flush();
      const frames = client.frames.at(-1)!;
      assert.ok(frames.length > 1 && frames.every((frame) => typeof frame === 'string'));
      assert.deepEqual(client.value, s.data);
    });

    it('speaks plain framing (bare JSON)', () => {
      const s = new Storage({ x: 1 });
      const channel = channelFor(s, { framing: 'plain' });
      const client = new FakeSubscriber(false, { framing: 'plain', keepFrames: true });
      channel.join(client);
      const frame = client.frames[0]![0]!;
      // The whole value is cached as bytes, for the next joiner.
      assert.ok(frame instanceof Uint8Array);
      assert.equal(new TextDecoder().decode(frame), '{"type":"state","diff":[{"op":"replace","path":"","value":{"x":1}}]}');
      s.set('x', 2);
      channel.flush();
      assert.equal(client.frames[1]![0], '{"type":"state","diff":[{"op":"replace","path":"/x","value":2}]}');
    });

    it('sends nothing for an empty diff, or when nothing changed', () => {
      const s = new Storage({});
      const channel = channelFor(s);
      const client = new FakeSubscriber(true);
      channel.join(client);
      s.set('tmp', 1);
      s.remove('tmp');
      channel.flush();
      channel.flush();
      assert.equal(client.messages.length, 1, 'only the join');
    });

    it('sends the whole value when the log dropped what the flush needed', () => {
      const s = new Storage({}, { log: { maxOps: 2 } });
      const channel = channelFor(s);
      const clients = [new FakeSubscriber(false), new FakeSubscriber(true)];
      for (const client of clients) channel.join(client);
      for (let i = 0; i < 5; i++) s.set(String(i), i);
      channel.flush();
      for (const client of clients) {
        assert.deepEqual(client.messages.at(-1)!.diff, [{ op: 'replace', path: '', value: s.data }]);
        assert.deepEqual(client.value, s.data);
      }
    });

    it('reports a subscriber that throws, and still serves the others', () => {
      const s = new Storage({});
      const errors: unknown[] = [];
      const channel = channelFor(s, { onError: (err) => errors.push(err) });
      const bad = new FakeSubscriber();
      const good = new FakeSubscriber();
      channel.join(bad);
      channel.join(good);
      bad.sendEncoded = () => {
        throw new Error('socket gone');
      };
      s.set('a', 1);
      channel.flush();
      assert.equal(errors.length, 1);
      assert.deepEqual(good.value, { a: 1 });
    });
  });

  describe('#join', () => {
    it('sends a plain newcomer the whole value as one replace at "", or nothing while it is null', () => {
      const s = new Storage();
      const channel = channelFor(s);
      const early = new FakeSubscriber();
      channel.join(early);
      channel.join(early);
      assert.equal(early.messages.length, 0);
      s.set('a', 1);
      channel.flush();
      assert.deepEqual(early.messages, [{ type: 'state', diff: [{ op: 'replace', path: '', value: { a: 1 } }] }]);
      const late = new FakeSubscriber();
      channel.join(late);
      assert.deepEqual(late.messages, [{ type: 'state', diff: [{ op: 'replace', path: '', value: { a: 1 } }] }]);
    });

    it('flushes unflushed changes to the others first, so nobody gets a change twice or misses one', () => {
      const s = new Storage({ n: 0 });
      const channel = channelFor(s);
      const first = new FakeSubscriber();
      channel.join(first);
      s.set('n', 1);
      const second = new FakeSubscriber();
      channel.join(second);
      assert.deepEqual(first.value, { n: 1 });
      assert.deepEqual(second.messages, [{ type: 'state', diff: [{ op: 'replace', path: '', value: { n: 1 } }] }]);
      s.set('n', 2);
      channel.flush();
      assert.deepEqual(second.messages.length, 2);
      assert.deepEqual(first.value, { n: 2 });
      assert.deepEqual(second.value, { n: 2 });
    });

    it('serializes the whole value once per version, however many join', () => {
      const big: Record<string, JsonValue> = {};
      for (let i = 0; i < 1000; i++) big[`k${i}`] = { v: i };
      const s = new Storage(big);
      const channel = channelFor(s);
      const clients = Array.from({ length: 100 }, (_, i) => new FakeSubscriber(i % 2 === 0, { keepFrames: true, decode: false }));
      for (const client of clients) channel.join(client);
      assert.equal(channel.stats.wholeValueEncodings, 1);
      assert.equal(channel.stats.messagesEncoded, 2, 'one message per kind');
      assert.equal(clients[2]!.frames[0], clients[98]!.frames[0], 'the same cached frames');
      s.set(['k1', 'v'], -1);
      channel.join(new FakeSubscriber());
      assert.equal(channel.stats.wholeValueEncodings, 2, 'a new version is serialized again');
    });

    it('sends an extension newcomer the whole value with its version, even null', () => {
      const s = new Storage();
      const channel = channelFor(s);
      const client = new FakeSubscriber(true);
      channel.join(client);
      assert.deepEqual(client.messages, [{ type: 'state', diff: [{ op: 'replace', path: '', value: null }], version: channel.version }]);
    });

    it('resumes an extension client: nothing for the current version, a diff from a held one, else the whole value', () => {
      const s = new Storage({ a: 0, big: 'x'.repeat(10_000) });
      const channel = channelFor(s);
      const first = new FakeSubscriber(true);
      channel.join(first);
      const v0 = first.version!;
      s.set('a', 1);
      channel.flush();
      const v1 = first.version!;
      assert.notEqual(v0, v1);

      const current = new FakeSubscriber(true);
      channel.join(current, v1);
      assert.equal(current.messages.length, 0, 'already up to date');

      const behind = new FakeSubscriber(true);
      behind.value = { a: 0, big: 'x'.repeat(10_000) };
      channel.join(behind, v0);
      assert.deepEqual(behind.messages, [{ type: 'state', diff: [{ op: 'replace', path: '/a', value: 1 }], version: v1 }]);
      assert.deepEqual(behind.value, s.data);

      for (const unknown of ['nonsense', `${'0'.repeat(16)}.1`, stateLogOf(new Storage()).versions.format(0), `${v1.split('.')[0]}.99`, `${v1.split('.')[0]}.01`]) {
        const other = new FakeSubscriber(true);
        channel.join(other, unknown);
        assert.deepEqual(other.messages[0]!.diff, [{ op: 'replace', path: '', value: s.data }], unknown);
      }
    });

    it('does nothing after close', () => {
      const channel = channelFor(new Storage({ a: 1 }));
      channel.close();
      const client = new FakeSubscriber();
      channel.join(client);
      assert.equal(client.messages.length, 0);
      assert.equal(channel.subscriberCount, 0);
    });
  });

  describe('#diffFromVersion', () => {
    it('gives the patch from a version sent to an extension client, while history holds it', () => {
      const s = new Storage({ n: 0 });
      const channel = channelFor(s, { historySize: 2 });
      const client = new FakeSubscriber(true);
      channel.join(client);
      const versions = [client.version!];
      for (let n = 1; n <= 3; n++) {
        s.set('n', n);
        channel.flush();
        versions.push(client.version!);
      }
      assert.equal(channel.diffFromVersion(versions[3]!), '[]');
      assert.equal(channel.diffFromVersion(versions[2]!), '[{"op":"replace","path":"/n","value":3}]');
      assert.equal(channel.diffFromVersion(versions[1]!), undefined, 'beyond historySize');
      assert.equal(channel.diffFromVersion(versions[0]!), undefined);
    });
  });

  describe('congestion', () => {
    it('holds a congested subscriber back and sends it one diff when it drains', () => {
      const s = new Storage({ a: 0, b: 0 });
      const channel = channelFor(s);
      const fast = new FakeSubscriber(true);
      const slow = new FakeSubscriber(true);
      channel.join(fast);
      channel.join(slow);
      slow.congested = true;
      for (let i = 1; i <= 3; i++) {
        s.set('a', i);
        s.set(['c', i], i);
        channel.flush();
      }
      assert.equal(fast.messages.length, 4);
      assert.equal(slow.messages.length, 1);
      const diffs = channel.stats.diffsComputed;
      slow.congested = false;
      channel.drained(slow);
      channel.drained(slow);
      assert.equal(slow.messages.length, 2, 'one catch-up diff');
      assert.equal(channel.stats.diffsComputed - diffs, 1, 'computed just for it');
      assert.deepEqual(slow.value, s.data);
      assert.equal(slow.version, channel.version);
      s.set('b', 1);
      channel.flush();
      assert.deepEqual(slow.value, s.data, 'and it is back with the others');
    });

    it('catches a held-back subscriber up at the next flush if it has room, even without drained()', () => {
      const s = new Storage({ a: 0 });
      const channel = channelFor(s);
      const slow = new FakeSubscriber();
      const other = new FakeSubscriber();
      channel.join(slow);
      channel.join(other);
      slow.congested = true;
      s.set('a', 1);
      channel.flush();
      slow.congested = false;
      s.set('a', 2);
      channel.flush();
      assert.deepEqual(slow.messages.at(-1)!.diff, [{ op: 'replace', path: '/a', value: 2 }]);
      assert.equal(slow.messages.length, 2);
      assert.deepEqual(slow.value, s.data);
      slow.congested = true;
      s.set('a', 3);
      channel.flush();
      slow.congested = false;
      channel.flush();
      assert.deepEqual(slow.value, s.data, 'also by a flush with nothing new');
    });

    it('flush(subscriber) sends its held-back diff now, congested or not', () => {
      const s = new Storage({ a: 0 });
      const channel = channelFor(s);
      const slow = new FakeSubscriber();
      channel.join(slow);
      slow.congested = true;
      s.set('a', 1);
      channel.flush();
      assert.equal(slow.messages.length, 1);
      s.set('a', 2);
      channel.flush(slow);
      assert.deepEqual(slow.value, { a: 2 });
    });

    it('sends the whole value when the log no longer holds its position', () => {
      const s = new Storage({}, { log: { maxOps: 2 } });
      const channel = channelFor(s);
      const slow = new FakeSubscriber(true);
      channel.join(slow);
      slow.congested = true;
      for (let i = 0; i < 5; i++) {
        s.set(String(i), i);
        channel.flush();
      }
      s.set('pending', true);
      slow.congested = false;
      channel.drained(slow);
      assert.deepEqual(slow.messages.at(-1)!.diff, [{ op: 'replace', path: '', value: s.data }]);
      assert.deepEqual(slow.value, s.data, 'pending changes were flushed first, so the value matches later diffs');
      assert.equal(channel.pending, false);
    });

    it('lets the log go of a subscriber that leaves', () => {
      const s = new Storage({});
      const channel = channelFor(s);
      const slow = new FakeSubscriber();
      channel.join(slow);
      slow.congested = true;
      s.set('a', 1);
      channel.flush();
      s.set('b', 1);
      channel.flush();
      assert.ok(changeLogOf(s).size > 0);
      channel.leave(slow);
      channel.leave(slow);
      assert.equal(channel.subscriberCount, 0);
      assert.equal(changeLogOf(s).size, 0);
    });
  });

  it('keeps nothing in the log while it has no subscribers', () => {
    const s = new Storage({});
    const channel = channelFor(s, { autoflushDelay: 1000 });
    for (let i = 0; i < 100; i++) s.set('k', i);
    assert.equal(changeLogOf(s).size, 0);
    assert.equal(channel.pending, false);
  });
});
