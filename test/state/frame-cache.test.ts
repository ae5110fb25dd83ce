import assert from 'node:assert/strict';
import { FrameCache } from '../../src/state/frame-cache.js';
import { FlushTimer } from '../../src/state/flush-timer.js';
import { waitFor } from '../support/wait.js';

describe('FrameCache', () => {
  it('keeps frames per key, for one position at a time', () => {
    const cache = new FrameCache<string[]>();
    const plain = ['p'];
    const versioned = ['v'];
    assert.equal(cache.get('plain', 1), undefined);
    assert.equal(cache.set('plain', 1, plain), plain);
    assert.equal(cache.set('versioned', 1, versioned), versioned);
    assert.equal(cache.get('plain', 1), plain);
    assert.equal(cache.get('versioned', 1), versioned);
    assert.equal(cache.get('plain', 1), plain, 'again, after another key');
    assert.equal(cache.get('view:a', 1), undefined, 'a key nobody built');
    assert.equal(cache.get('plain', 2), undefined, 'another position');
  });

  it('keeps null (nothing to send) apart from nothing built', () => {
    const cache = new FrameCache<string[]>();
    cache.set('plain', 3, null);
    assert.equal(cache.get('plain', 3), null);
    assert.equal(cache.get('other', 3), undefined);
  });

  it('drops the frames of an older position when a new one is set, and everything on clear()', () => {
    const cache = new FrameCache<string[]>();
    cache.set('a', 1, ['1']);
    cache.set('b', 2, ['2']);
    assert.equal(cache.get('a', 1), undefined);
    assert.deepEqual(cache.get('b', 2), ['2']);
    cache.clear();
    assert.equal(cache.get('b', 2), undefined);
  });
});

describe('FlushTimer', () => {
  it('0 flushes at once, null never by itself', () => {
    let flushes = 0;
    new FlushTimer(0, () => void (flushes += 1)).changed();
    assert.equal(flushes, 1);
    const never = new FlushTimer(null, () => void (flushes += 1));
    never.changed();
    never.cancel();
    assert.equal(flushes, 1);
  });

  it('a positive delay starts at the first change and is not pushed back by later ones', async () => {
    const flushedAt: number[] = [];
    const timer = new FlushTimer(30, () => void flushedAt.push(performance.now()));
    const start = performance.now();
    timer.changed();
    timer.changed();
    await waitFor(() => flushedAt.length === 1, 'the flush', 1000);
    assert.ok(flushedAt[0]! - start >= 25, `${flushedAt[0]! - start} ms`);
    timer.changed();
    timer.cancel();
    timer.cancel();
  });
});
