import assert from 'node:assert/strict';
import { MAX_READ_PAUSE, readPause } from '../../src/cluster/redis-cluster.js';

describe('readPause: how long a node lets log entries gather between reads', () => {
  it('is a quarter of the smallest autoflushDelay of its servers, at most MAX_READ_PAUSE', () => {
    assert.equal(readPause([200], false), MAX_READ_PAUSE);
    assert.equal(readPause([100, 40], false), 10);
    assert.equal(readPause([null], false), MAX_READ_PAUSE);
    assert.equal(readPause([null, 20], false), 5);
  });

  it('is 0 while the node has its own writes waiting for the reader or a resume waits (busy)', () => {
    assert.equal(readPause([200], true), 0);
  });

  it('is 0 with no server, or a server that flushes every change', () => {
    assert.equal(readPause([], false), 0);
    assert.equal(readPause([0, 200], false), 0);
    assert.equal(readPause([3], false), 0);
  });
});
