import assert from 'node:assert/strict';
import { gatherWindow, MAX_READ_PAUSE, READ_AHEAD, ReadPacing, type PacedNode } from '../../src/cluster/read-pacing.js';

/** A node with these delays; the rest of its state is set per test. */
function paced(delays: (number | null)[]): { node: PacedNode & { readNeeded: boolean; appendedAt: number; readerCaughtUp: boolean }; pacing: ReadPacing } {
  const node = { autoflushDelays: () => delays, readNeeded: false, appendedAt: -Infinity, readerCaughtUp: true };
  return { node, pacing: new ReadPacing(node) };
}

describe('ReadPacing: when a node reads the log', () => {
  it('gathers for a quarter of the smallest autoflushDelay of its servers, at most MAX_READ_PAUSE', () => {
    assert.equal(gatherWindow([200]), MAX_READ_PAUSE);
    assert.equal(gatherWindow([100, 40]), 10);
    assert.equal(gatherWindow([null]), MAX_READ_PAUSE);
    assert.equal(gatherWindow([null, 20]), 5);
  });

  it('does not gather with no server, or a server that flushes every change', () => {
    assert.equal(gatherWindow([]), 0);
    assert.equal(gatherWindow([0, 200]), 0);
    assert.equal(gatherWindow([3]), 0);
    const { pacing } = paced([0]);
    pacing.applied(0);
    assert.equal(pacing.pause(0), 0);
  });

  it('rests the window after a read, or until just before the flush its entries started, whichever is later', () => {
    const { pacing } = paced([200]);
    // Nothing applied yet: no flush is due.
    assert.equal(pacing.pause(0), MAX_READ_PAUSE);
    pacing.applied(1000);
    assert.equal(pacing.pause(1000), 200 - READ_AHEAD);
    // An entry applied before the flush does not move it (the servers' timers are a throttle).
    pacing.applied(1100);
    assert.equal(pacing.pause(1100), 100 - READ_AHEAD);
    // Close to the flush: the window.
    assert.equal(pacing.pause(1180), MAX_READ_PAUSE);
    // The first entry after it starts the next.
    pacing.applied(1230);
    assert.equal(pacing.pause(1230), 200 - READ_AHEAD);
  });

  it('reads ahead of the flush by at most half the window', () => {
    const { pacing } = paced([40, null]);
    pacing.applied(0);
    assert.equal(pacing.pause(0), 40 - 5);
  });

  it('has no flush to wait for when its servers flush only on request', () => {
    const { pacing } = paced([null]);
    pacing.applied(0);
    assert.equal(pacing.pause(0), MAX_READ_PAUSE);
  });

  it('does not rest while a read is needed (own writes wait for it, a resume waits, closing)', () => {
    const { node, pacing } = paced([200]);
    pacing.applied(0);
    node.readNeeded = true;
    assert.equal(pacing.pause(0), 0);
    node.appendedAt = 0;
    assert.equal(pacing.restMore(10), 0);
  });

  it('rests a window and a half from a reply that applied an own entry, unless a read is needed', () => {
    const { node, pacing } = paced([200]);
    assert.equal(pacing.restOn(), MAX_READ_PAUSE * 1.5);
    assert.equal(paced([100, 40]).pacing.restOn(), 15);
    assert.equal(paced([0]).pacing.restOn(), 0, 'nothing gathers where every change is flushed');
    node.readNeeded = true;
    assert.equal(pacing.restOn(), 0);
  });

  it('rests on while this node keeps writing and reads nothing back, and not once it stopped', () => {
    const { node, pacing } = paced([200]);
    assert.equal(pacing.restMore(100), 0, 'never appended');
    node.appendedAt = 90;
    assert.equal(pacing.restMore(100), MAX_READ_PAUSE);
    assert.equal(pacing.restMore(90 + MAX_READ_PAUSE), 0, 'no append for a window');
    node.readerCaughtUp = false;
    assert.equal(pacing.restMore(100), 0, 'an entry applied since must be passed over by a read');
  });
});
