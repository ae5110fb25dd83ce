import assert from 'node:assert/strict';
import { DiffTap } from '../../../src/server/admin/diff-tap.js';
import { stateLevel } from '../../../src/server/admin/admin-sources.js';
import { StateChannel } from '../../../src/state/state-channel.js';
import { Storage } from '../../../src/state/storage.js';
import { messageEncoder } from '../../../src/transport/transport.js';

describe('DiffTap', () => {
  it('is a member of the channel only while someone listens, and joining sends nothing', () => {
    const storage = new Storage({ a: 1 });
    const channel = new StateChannel(storage, { autoflushDelay: null, encode: messageEncoder({ maxSegmentSize: 8, framing: 'segmented' }) });
    const tap = new DiffTap(channel);
    assert.equal(channel.subscriberCount, 0);
    const seen: unknown[] = [];
    const stop = tap.listen((d) => seen.push(d.diff));
    const stop2 = tap.listen(() => {});
    assert.equal(channel.subscriberCount, 1);
    assert.deepEqual(seen, []);
    // Long enough to be cut into segments: the tap puts them back together.
    storage.set('a', 'a long value, more than one segment');
    channel.flush();
    assert.deepEqual(seen, [[{ op: 'replace', path: '/a', value: 'a long value, more than one segment' }]]);
    stop();
    stop();
    assert.equal(channel.subscriberCount, 1);
    stop2();
    assert.equal(channel.subscriberCount, 0);
    storage.set('a', 3);
    channel.flush();
    assert.equal(seen.length, 1);
    channel.close();
  });
});

describe('stateLevel()', () => {
  const root = { a: { b: [1, 'x'.repeat(300)] }, c: null };
  it('lists one level with sizes and previews, and null where nothing is', () => {
    const level = stateLevel(root, ['a', 'b'])!;
    assert.deepEqual(level.node, { key: 'b', type: 'array', size: JSON.stringify(root.a.b).length, count: 2, preview: null });
    assert.deepEqual(level.children[0], { key: 0, type: 'number', size: 1, count: null, preview: '1' });
    assert.equal(level.children[1]!.preview!.length, 201);
    assert.equal(stateLevel(root, ['a', 'zz']), null);
    assert.equal(stateLevel(root, ['c', 'x']), null);
    assert.equal(stateLevel(root, ['__proto__']), null);
  });
});
