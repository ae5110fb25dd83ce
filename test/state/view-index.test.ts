import assert from 'node:assert/strict';
import { Storage, changeLogOf } from '../../src/state/storage.js';
import { ViewIndex } from '../../src/state/view-index.js';
import { canonicalView } from '../../src/state/view-paths.js';

describe('canonicalView', () => {
  it('sorts, dedupes and drops paths under others; the root path means everything', () => {
    assert.deepEqual(canonicalView([['b'], ['a', 'x'], ['a'], ['b']], 'paths'), [['a'], ['b']]);
    assert.deepEqual(canonicalView([['a', 'y'], ['a', 'x', 'z'], ['a', 'x']], 'paths'), [['a', 'x'], ['a', 'y']]);
    assert.deepEqual(canonicalView([], 'paths'), []);
    assert.equal(canonicalView([['a'], []], 'paths'), null);
  });

  it('refuses array indexes and other shapes, naming the element', () => {
    assert.throws(() => canonicalView([['a', 0]], 'paths'), { name: 'InvalidArgumentError', message: /^paths\[0\]\[1\] must be a string/ });
    assert.throws(() => canonicalView('a', 'paths'), { message: /^paths must be an array/ });
    assert.throws(() => canonicalView([['a'], 'b'], 'paths'), { message: /^paths\[1\] must be an array/ });
  });

  it('returns its own result as it is, frozen, so it cannot turn into something unchecked', () => {
    const view = canonicalView([['b'], ['a']], 'paths')!;
    assert.equal(canonicalView(view, 'paths'), view);
    assert.ok(Object.isFrozen(view) && view.every((path) => Object.isFrozen(path)));
    assert.throws(() => (view[0] as unknown[]).push(0), TypeError);
  });
});

describe('ViewIndex', () => {
  /** The compacted operations of `write` on `storage`. */
  function opsOf(storage: Storage, write: () => void) {
    const log = changeLogOf(storage);
    const cursor = log.openCursor();
    write();
    const ops = log.diffOps(cursor.position)!;
    cursor.close();
    return ops;
  }

  it('routes a change only to the views it touches, among 5,000', () => {
    const points: Record<string, number> = {};
    for (let i = 0; i < 5000; i++) points['p' + i] = i;
    const s = new Storage({ points });
    const index = new ViewIndex();
    const views = Array.from({ length: 5000 }, (_, i) => index.acquire([['points', 'p' + i]], s.data));
    const diffs = index.flush(opsOf(s, () => s.set(['points', 'p7'], -1)), s.data);
    assert.deepEqual([...diffs.keys()], [views[7]]);
    assert.equal(diffs.get(views[7]!), '[{"op":"replace","path":"/points/p7","value":-1}]');
    // A change above them touches all of them.
    assert.equal(index.flush(opsOf(s, () => s.remove('points')), s.data).size, 5000);
  });

  it('shares one view between equal paths and forgets it with its last user', () => {
    const s = new Storage({ a: 1 });
    const index = new ViewIndex();
    const one = index.acquire([['a']], s.data);
    assert.equal(index.acquire([['a']], s.data), one);
    index.release(one);
    assert.equal(index.size, 1);
    index.release(one);
    assert.equal(index.size, 0);
    assert.equal(index.flush(opsOf(s, () => s.set('a', 2)), s.data).size, 0);
  });
});
