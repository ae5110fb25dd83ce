import assert from 'node:assert/strict';
import { KeepaliveTimer, type KeepaliveMember } from '../../src/transport/keepalive.js';
import { Transport, type TransportOptions, type TransportSocket } from '../../src/transport/transport.js';
import { delay, waitFor } from '../support/wait.js';

/** A member that records when it was looked at and answers with the deadline the test gives it. */
class Member implements KeepaliveMember {
  readonly visits: number[] = [];
  constructor(public next: (now: number) => number) {}
  keepaliveDue(now: number): number {
    this.visits.push(now);
    return this.next(now);
  }
}

function socket(): TransportSocket & { sent: string[]; destroyed: boolean } {
  const s = {
    sent: [] as string[],
    destroyed: false,
    send(frame: string | Uint8Array) {
      s.sent.push(String(frame));
    },
    close() {},
    destroy() {
      s.destroyed = true;
    },
  };
  return s;
}

describe('keepalive timer', () => {
  it('looks at a member at its deadline, not before, and stops with the last member', async () => {
    const timer = new KeepaliveTimer(64);
    const start = Date.now();
    const member = new Member(() => Number.POSITIVE_INFINITY);
    timer.add(member, start + 40);
    await waitFor(() => member.visits.length === 1, 'the visit', 2000);
    assert.ok(member.visits[0]! >= start + 40, `looked at ${member.visits[0]! - start} ms after adding`);
    timer.delete(member);
    assert.equal(timer.size, 0);
    await delay(80);
    assert.equal(member.visits.length, 1);
  });

  it('waits out the rest when setTimeout fires before the deadline by Date.now() (the loop clock lags it)', async () => {
    const timer = new KeepaliveTimer(64);
    const realNow = Date.now;
    const member = new Member(() => Number.POSITIVE_INFINITY);
    const at = realNow() + 40;
    timer.add(member, at);
    // From here on Date.now() reads 15 ms behind the clock setTimeout counts with.
    Date.now = () => realNow() - 15;
    try {
      await waitFor(() => member.visits.length === 1, 'the visit', 2000);
      assert.ok(member.visits[0]! >= at, `looked at ${at - member.visits[0]!} ms before the deadline`);
    } finally {
      Date.now = realNow;
      timer.delete(member);
    }
  });

  it('walks every member once per tick and comes back at the earliest deadline it is given', async () => {
    const timer = new KeepaliveTimer(64);
    const now = Date.now();
    let rounds = 0;
    const early = new Member((t) => (++rounds < 3 ? t + 10 : Number.POSITIVE_INFINITY));
    const late = new Member((t) => t + 10_000);
    timer.add(late, now + 10_000);
    timer.add(early, now + 10);
    await waitFor(() => early.visits.length === 3, 'three visits', 2000);
    assert.equal(late.visits.length, 3, 'the other member is looked at on the same walks');
    timer.delete(early);
    timer.delete(late);
  });

  it('keeps going for the others when one member throws', async () => {
    const timer = new KeepaliveTimer(64);
    const bad = new Member(() => {
      throw new Error('boom');
    });
    const good = new Member((t) => t + 5);
    const uncaught: Error[] = [];
    const listeners = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    process.on('uncaughtException', (err) => uncaught.push(err));
    try {
      timer.add(bad, Date.now() + 5);
      timer.add(good, Date.now() + 5);
      await waitFor(() => uncaught.length > 0, 'the throw', 2000);
      timer.delete(bad);
      const seen = good.visits.length;
      await waitFor(() => good.visits.length > seen, 'a later visit of the other member', 2000);
    } finally {
      process.removeAllListeners('uncaughtException');
      for (const listener of listeners) process.on('uncaughtException', listener);
      timer.delete(bad);
      timer.delete(good);
    }
  });

  it('drops a silent transport and keeps a live one that shares its timer', async () => {
    const options: TransportOptions = { maxSegmentSize: 1000, maxMessageSize: 10_000, pingDelay: 30, pingTimeout: 30, sendQueueSize: 10, framing: 'segmented' };
    const lost: string[] = [];
    const silentSocket = socket();
    const liveSocket = socket();
    const silent = new Transport(silentSocket, options, { message() {}, lost: (reason) => lost.push(reason) });
    const live = new Transport(liveSocket, options, { message() {}, lost: (reason) => lost.push(`live: ${reason}`) });
    const answering = setInterval(() => live.receive('3'), 5);
    try {
      await waitFor(() => silentSocket.destroyed, 'the silent one dropped', 2000);
      assert.deepEqual(lost, ['no answer within 30 ms of a ping']);
      assert.ok(silentSocket.sent.includes('2'), 'the silent one was pinged first');
      await delay(150);
      assert.equal(liveSocket.destroyed, false);
      assert.deepEqual(lost, ['no answer within 30 ms of a ping']);
    } finally {
      clearInterval(answering);
      silent.close();
      live.close();
    }
  });
});
