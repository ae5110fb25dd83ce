import assert from 'node:assert/strict';
import { InvalidArgumentError } from '../../src/errors.js';
import type { JsonValue } from '../../src/json.js';
import { LocalLog } from '../../src/state/local-log.js';
import { changeLogOf, stateLogOf, Storage, storageOnLog } from '../../src/state/storage.js';
import { channelFor, closeChannels } from './support/channel-for.js';
import { MemoryStream } from './support/memory-log.js';
import { FakeSubscriber } from './support/fake-subscriber.js';

describe('the state log', () => {
  afterEach(closeChannels);

  describe('LocalLog', () => {
    it('has a random identity per log, and names positions <id>.<position>', () => {
      const a = new LocalLog();
      const b = new LocalLog();
      assert.match(a.id, /^[0-9a-f]{16}$/);
      assert.notEqual(a.id, b.id);
      assert.equal(a.versions.format(7), `${a.id}.7`);
      assert.equal(a.versions.parse(`${a.id}.7`), 7);
      for (const other of [`${b.id}.7`, `${a.id}.07`, `${a.id}.1e3`, `${a.id}.-1`, 'nonsense']) assert.equal(a.versions.parse(other), undefined, other);
    });

    it('serves one storage only', () => {
      const log = new LocalLog();
      storageOnLog(log);
      assert.throws(() => storageOnLog(log), /a log serves one storage/);
    });

    it('refuses a snapshot position that is not a non-negative integer', () => {
      assert.throws(() => new LocalLog({ position: -1 }), { name: 'InvalidArgumentError', message: /^snapshot\.position/ });
      assert.throws(() => new LocalLog({ position: 1.5 }), InvalidArgumentError);
    });

    it('applies inside submit(): set() throws at once with nothing changed, and a change shows as set() returns', () => {
      const s = new Storage({ list: [] });
      assert.throws(() => s.set(['list', 'k'], 1), InvalidArgumentError);
      assert.deepEqual(s.data, { list: [] });
      assert.equal(changeLogOf(s).head, 0);
      s.set('a', 1);
      assert.deepEqual(s.data, { list: [], a: 1 });
    });
  });

  describe('a snapshot start', () => {
    it('starts the value and the versions from the snapshot', () => {
      const log = new LocalLog({ value: { a: 1 }, position: 40 });
      const s = storageOnLog(log);
      const channel = channelFor(s);
      const client = new FakeSubscriber(true);
      channel.join(client);
      assert.deepEqual(s.data, { a: 1 });
      assert.equal(channel.version, `${log.id}.40`);
      assert.deepEqual(client.messages, [{ type: 'state', diff: [{ op: 'replace', path: '', value: { a: 1 } }], version: `${log.id}.40` }]);
      s.set('b', 2);
      channel.flush();
      assert.equal(client.version, `${log.id}.41`);
      assert.equal(channel.diffFromVersion(`${log.id}.40`), '[{"op":"add","path":"/b","value":2}]');
      assert.equal(channel.diffFromVersion(`${log.id}.39`), undefined, 'before the snapshot');
    });
  });

  describe('an entry of several writes', () => {
    it('applies and commits as one, skipping just the write that would throw and reporting it', async () => {
      const stream = new MemoryStream();
      const log = stream.node({ list: [] });
      const s = storageOnLog(log);
      const channel = channelFor(s);
      const client = new FakeSubscriber(true);
      channel.join(client);
      const version = channel.version;
      let calls = 0;
      s.onChange(() => void (calls += 1));
      const outcome = await log.submit([
        { kind: 'set', path: ['b'], value: 2 },
        { kind: 'set', path: ['list', 'k'], value: 1 },
        { kind: 'remove', path: ['missing'] },
        { kind: 'set', path: ['list', 2], value: 'x' },
      ]);
      assert.ok(outcome !== null);
      assert.equal(outcome.length, 4);
      assert.ok(outcome[1] instanceof InvalidArgumentError);
      assert.match(outcome[1].message, /^path\[1\]/);
      assert.deepEqual([outcome[0], outcome[2], outcome[3]], [null, null, null]);
      assert.equal(calls, 1, 'one round of onChange callbacks');
      assert.deepEqual(s.data, { list: [null, null, 'x'], b: 2 });
      channel.flush();
      assert.equal(client.messages.length, 2, 'one diff');
      assert.deepEqual(client.value, s.data);
      assert.equal(channel.diffFromVersion(version), JSON.stringify(client.messages[1]!.diff), 'one version step');
    });

    it('reports nothing (null) when every write applied', async () => {
      const log = new MemoryStream().node({});
      storageOnLog(log);
      assert.equal(await log.submit([{ kind: 'set', path: ['a'], value: 1 }]), null);
    });
  });

  describe('a replica fed from an asynchronous log', () => {
    it('produces the very same diffs and versions as the node that wrote', async () => {
      const stream = new MemoryStream();
      const initial: JsonValue = { points: { a: 0, b: 0 }, list: [1, 2, 3] };
      const logs = [stream.node(structuredClone(initial)), stream.node(structuredClone(initial))];
      const storages = logs.map((log) => storageOnLog(log));
      const channels = storages.map((s) => channelFor(s));
      const clients = channels.map((channel) => {
        const client = new FakeSubscriber(true);
        channel.join(client);
        return client;
      });
      const rounds: [number, Parameters<typeof logs[0]['submit']>[0]][] = [
        [0, [{ kind: 'set', path: ['points', 'a'], value: 1 }]],
        [1, [{ kind: 'remove', path: ['list', 0] }, { kind: 'set', path: ['points', 'c'], value: { on: true } }]],
        [0, [{ kind: 'set', path: ['list', 5], value: 'padded' }]],
        [1, [{ kind: 'set', path: ['list', 'bad'], value: 0 }, { kind: 'set', path: ['points', 'a'], value: 2 }]],
        [0, [{ kind: 'remove', path: [] }]],
        [1, [{ kind: 'set', path: ['fresh', 0, 'deep'], value: [1] }]],
      ];
      for (const [writer, entry] of rounds) {
        const done = logs[writer]!.submit(entry);
        assert.deepEqual(storages[writer]!.data, storages[1 - writer]!.data, 'nothing applied before the read-back');
        await done;
        for (const channel of channels) channel.flush();
        assert.deepEqual(storages[0]!.data, storages[1]!.data);
        assert.equal(channels[0]!.version, channels[1]!.version);
      }
      assert.deepEqual(clients[0]!.messages, clients[1]!.messages, 'identical diffs and versions');
      assert.equal(clients[0]!.messages.length, rounds.length + 1);
      assert.equal(clients[0]!.version, `${stream.epoch}.${rounds.length}`);
      for (const client of clients) assert.deepEqual(client.value, storages[0]!.data);
      // A version one node sent resumes on the other.
      const late = new FakeSubscriber(true);
      late.value = structuredClone(initial);
      channels[1]!.join(late, `${stream.epoch}.0`);
      assert.deepEqual(late.value, storages[1]!.data);
      assert.equal(stateLogOf(storages[0]!), logs[0]);
    });
  });

  describe('resume', () => {
    it('accepts any entry boundary still held, not only versions that were sent', () => {
      const s = new Storage({});
      const channel = channelFor(s);
      const versions = stateLogOf(s).versions;
      channel.join(new FakeSubscriber(true));
      s.set('a', 1);
      s.set('b', 2);
      s.set('c', 3);
      channel.flush();
      assert.equal(channel.diffFromVersion(versions.format(1)), '[{"op":"add","path":"/b","value":2},{"op":"add","path":"/c","value":3}]');
      assert.equal(channel.diffFromVersion(versions.format(2)), '[{"op":"add","path":"/c","value":3}]');
      const resumed = new FakeSubscriber(true);
      resumed.value = { a: 1 };
      channel.join(resumed, versions.format(1));
      assert.deepEqual(resumed.messages[0]!.diff, [{ op: 'add', path: '/b', value: 2 }, { op: 'add', path: '/c', value: 3 }]);
      assert.deepEqual(resumed.value, s.data);
    });

    it('refuses a position inside an entry (a set that padded an array)', () => {
      const s = new Storage({ list: [] });
      const channel = channelFor(s);
      const versions = stateLogOf(s).versions;
      channel.join(new FakeSubscriber(true));
      s.set(['list', 3], 'x');
      channel.flush();
      assert.equal(changeLogOf(s).head, 4, 'three nulls and the value, in one entry');
      for (const inside of [1, 2, 3]) assert.equal(channel.diffFromVersion(versions.format(inside)), undefined, `position ${inside}`);
      assert.equal(channel.diffFromVersion(versions.format(0)), '[{"op":"add","path":"/list/0","value":null},{"op":"add","path":"/list/1","value":null},{"op":"add","path":"/list/2","value":null},{"op":"add","path":"/list/3","value":"x"}]');
      const client = new FakeSubscriber(true);
      channel.join(client, versions.format(2));
      assert.deepEqual(client.messages[0]!.diff, [{ op: 'replace', path: '', value: s.data }], 'the whole value');
    });

    it('refuses a boundary older than the window of historySize sent versions', () => {
      const s = new Storage({ n: 0 });
      const channel = channelFor(s, { historySize: 2 });
      const versions = stateLogOf(s).versions;
      const client = new FakeSubscriber(true);
      channel.join(client);
      for (let n = 1; n <= 6; n++) {
        s.set('n', n);
        if (n % 2 === 0) channel.flush();
      }
      // Sent: 0, 2, 4, 6; the window spans the last two (4 and 6), every boundary between included.
      assert.equal(channel.diffFromVersion(versions.format(5)), '[{"op":"replace","path":"/n","value":6}]');
      assert.equal(channel.diffFromVersion(versions.format(4)), '[{"op":"replace","path":"/n","value":6}]');
      assert.equal(channel.diffFromVersion(versions.format(3)), undefined);
      assert.equal(channel.diffFromVersion(versions.format(7)), undefined, 'past the last flush');
    });
  });
});
