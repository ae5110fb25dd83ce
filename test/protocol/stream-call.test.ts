// StreamCall on its own: the states of both halves, credit both ways and
// the races of docs/protocol.md "Streams", with each side's options (the
// client's and the server's, as ClientCall and ServerCall pass them). The
// adapters over real sockets are in test/client/extension-streams.test.ts
// and test/server/extension.test.ts.
import assert from 'node:assert/strict';
import { ProtocolError } from '../../src/errors.js';
import { StreamCall, type StreamCallOptions } from '../../src/protocol/stream-call.js';

const CLIENT: StreamCallOptions = {
  endWhenSilent: true,
  overError: () => new Error('over'),
  endedError: () => new Error('send() after end()'),
};
const SERVER: StreamCallOptions = { ...CLIENT, endWhenSilent: false };

function makeCall(side: StreamCallOptions, window: number | null = 4) {
  const sent: Record<string, unknown>[] = [];
  const finished: number[] = [];
  const call = new StreamCall(3, { send: (message) => sent.push(message), finished: (id) => finished.push(id) }, window, side);
  let reads = 0;
  call.onRead = () => reads++;
  return { call, sent, finished, reads: () => reads, types: () => sent.map((m) => m.type) };
}

/** Settles once every promise callback queued so far has run. */
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('StreamCall', () => {
  describe('the halves', () => {
    it('is over once both halves have ended, whichever ends first', () => {
      for (const localFirst of [true, false]) {
        const { call, finished, types } = makeCall(SERVER);
        assert.deepEqual([call.local, call.remote, call.over], ['open', 'open', false]);
        if (localFirst) call.end();
        else call.receiveEnd();
        assert.equal(call.over, false);
        if (localFirst) call.receiveEnd();
        else call.end();
        assert.deepEqual([call.local, call.remote, call.over], ['ended', 'ended', true]);
        assert.deepEqual(types(), ['stream-end']);
        assert.deepEqual(finished, [3]);
      }
    });

    it('ends our half after the sends already made (ending), once, and refuses sends after end()', async () => {
      const { call, types } = makeCall(SERVER, 1);
      await call.send('a');
      const waiting = call.send('b');
      call.end();
      call.end();
      assert.equal(call.local, 'ending');
      await assert.rejects(call.send('c'), /after end\(\)/);
      call.receiveCredit(1);
      await waiting;
      assert.equal(call.local, 'ended');
      assert.deepEqual(types(), ['stream-data', 'stream-data', 'stream-end']);
    });

    it('errors our half with stream-error: over, pending sends reject with the failure given', async () => {
      const { call, sent, finished } = makeCall(SERVER, 0);
      const pending = call.send(1);
      call.error({ why: 'no' }, new Error('cut'));
      call.error('again');
      await assert.rejects(pending, /cut/);
      assert.deepEqual(sent, [{ type: 'stream-error', id: 3, data: { why: 'no' } }]);
      assert.deepEqual([call.local, call.remote, call.over], ['errored', 'open', true]);
      assert.deepEqual(finished, [3]);
    });

    it("the peer's error fails its half while open, else ours; pending sends reject with it", async () => {
      const open = makeCall(SERVER, 0);
      const pending = open.call.send(1);
      const err = new Error('peer failed');
      open.call.fail(err);
      await assert.rejects(pending, (e) => e === err);
      assert.deepEqual([open.call.local, open.call.remote, open.call.remoteError], ['open', 'errored', err]);
      assert.equal(open.reads(), 1);

      const ended = makeCall(SERVER);
      ended.call.receiveEnd();
      ended.call.fail(new Error('connection lost'));
      assert.deepEqual([ended.call.local, ended.call.remote, ended.call.remoteError, ended.call.over], ['errored', 'ended', null, true]);
      assert.deepEqual(ended.finished, [3]);
    });

    it("client side: a call that has sent nothing ends its half with the peer's; the server's does not", async () => {
      const quiet = makeCall(CLIENT);
      quiet.call.receiveEnd();
      assert.deepEqual(quiet.types(), ['stream-end']);
      assert.equal(quiet.call.over, true);

      const talker = makeCall(CLIENT);
      await talker.call.send(1);
      talker.call.receiveEnd();
      assert.equal(talker.call.over, false);

      const server = makeCall(SERVER);
      server.call.receiveEnd();
      assert.deepEqual(server.types(), []);
      assert.equal(server.call.over, false);
    });
  });

  describe('credit', () => {
    it('sends nothing before the window is known, then in order as credit allows', async () => {
      const { call, sent } = makeCall(CLIENT, null);
      const first = call.send('a');
      await tick();
      assert.equal(sent.length, 0);
      call.start(1);
      call.start(100);
      const second = call.send('b');
      await first;
      assert.equal(call.credit, 0);
      call.receiveCredit(1);
      await second;
      assert.deepEqual(sent.map((m) => m.data), ['a', 'b']);
    });

    it('takes a whole window of data from a fresh call (the data in stream-open costs none), then 1002', () => {
      const { call } = makeCall(SERVER, 2);
      call.receiveData(1);
      call.receiveData(2);
      assert.throws(() => call.receiveData(3), (err) => err instanceof ProtocolError && err.closeCode === 1002);
    });

    it('refuses data before the window is known', () => {
      const { call } = makeCall(CLIENT, null);
      assert.throws(() => call.receiveData(1), /before welcome/);
    });

    it('grants credit as items are consumed, in half-window batches, while the peer may still send', () => {
      const { call, sent, reads } = makeCall(SERVER, 4);
      for (let i = 0; i < 3; i++) call.receiveData(i);
      assert.equal(reads(), 3);
      assert.equal(call.take(), 0);
      assert.deepEqual(sent, []);
      assert.equal(call.take(), 1);
      assert.deepEqual(sent, [{ type: 'stream-credit', id: 3, n: 2 }]);
      call.receiveData(3);
      call.receiveEnd();
      assert.deepEqual([call.take(), call.take()], [2, 3]);
      assert.equal(sent.length, 1, 'no credit to a peer that has ended');
    });

    it('gives a peer out of credit one back with the first item consumed', () => {
      const { call, sent } = makeCall(SERVER, 4);
      for (let i = 0; i < 4; i++) call.receiveData(i);
      call.take();
      assert.deepEqual(sent, [{ type: 'stream-credit', id: 3, n: 1 }]);
    });

    it('discard(): what is buffered and what still arrives is dropped, its credit granted', () => {
      const { call, sent, reads } = makeCall(SERVER, 2);
      call.receiveData('a');
      call.receiveData('b');
      call.discard();
      assert.equal(call.buffered, 0);
      call.receiveData('c');
      assert.equal(call.buffered, 0);
      assert.equal(reads(), 2);
      assert.deepEqual(sent.map((m) => m.n), [1, 1, 1]);
    });

    it('drop(): what is buffered goes without credit (a cancel)', () => {
      const { call, sent } = makeCall(CLIENT, 2);
      call.receiveData('a');
      call.receiveData('b');
      call.drop();
      assert.equal(call.buffered, 0);
      assert.deepEqual(sent, []);
    });
  });

  describe('races: messages crossing an end in flight', () => {
    it('ignores data, end, credit and errors once the call was cut', () => {
      const { call, reads, finished } = makeCall(CLIENT, 1);
      call.error('cancelled');
      const before = reads();
      call.receiveData(1);
      call.receiveData(2);
      call.receiveEnd();
      call.receiveCredit(5);
      call.fail(new Error('late'));
      assert.equal(call.credit, 1);
      assert.equal(call.buffered, 0);
      assert.equal(call.remote, 'open');
      assert.equal(reads(), before);
      assert.deepEqual(finished, [3]);
    });

    it('data after the peer ended is a ProtocolError, whether or not the call is over', () => {
      const open = makeCall(SERVER);
      open.call.receiveEnd();
      assert.throws(() => open.call.receiveData(1), (err) => err instanceof ProtocolError && /after stream-end/.test(err.message));
      const over = makeCall(CLIENT);
      over.call.receiveEnd();
      assert.equal(over.call.over, true);
      assert.throws(() => over.call.receiveData(1), /after stream-end/);
    });

    it('a send that got its credit after the call was cut rejects instead of sending', async () => {
      const { call, types } = makeCall(SERVER, 0);
      const pending = call.send(1);
      call.receiveCredit(1);
      call.fail(new Error('cancelled'));
      await assert.rejects(pending, /cancelled/);
      assert.deepEqual(types(), []);
    });

    it('a send after the normal end rejects with the side\'s overError', async () => {
      const { call } = makeCall(SERVER);
      call.end();
      call.receiveEnd();
      await assert.rejects(call.send(1), /^Error: over$/);
    });
  });
});
