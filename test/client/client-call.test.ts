// ClientCall on its own, over a fake link that records what it would send:
// credit, buffering, both reading interfaces and the end of a call. What
// the server sends is fed to the call's core (StreamCall), as the client's
// CallTable does. The same behaviour over real sockets is in
// extension-streams.test.ts.
import assert from 'node:assert/strict';
import { ConnectionLostError, InvalidArgumentError, JugglerError, ProtocolError, type JsonValue } from '../../src/client/index.js';
import { openClientCall } from '../../src/client/client-call.js';
import type { StreamLink } from '../../src/protocol/stream-call.js';

function fakeCall(window: number | null = 4) {
  const sent: Record<string, unknown>[] = [];
  const finished: number[] = [];
  const reported: unknown[] = [];
  const link: StreamLink = {
    send: (message, text) => sent.push(text === undefined ? message : JSON.parse(text)),
    finished: (id) => finished.push(id),
  };
  const { call, core } = openClientCall(7, 'test', link, (err) => reported.push(err));
  if (window !== null) core.start(window);
  return { call, core, sent, finished, reported, credits: () => sent.filter((m) => m.type === 'stream-credit').map((m) => m.n) };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('ClientCall', () => {
  describe('#send', () => {
    it('sends nothing before the window is known, then as much as the credit allows', async () => {
      const { call, core, sent } = fakeCall(null);
      const first = call.send('a');
      await tick();
      assert.equal(sent.length, 0, 'no stream-data before welcome');
      core.start(2);
      const second = call.send('b');
      const third = call.send('c');
      await Promise.all([first, second]);
      await tick();
      assert.deepEqual(sent.map((m) => m.data), ['a', 'b']);
      core.receiveCredit(1);
      await third;
      assert.deepEqual(sent.map((m) => m.data), ['a', 'b', 'c']);
      assert.equal(call.credit, 0);
    });

    it('sends stream-end after the items of earlier send() calls, and refuses send() after end()', async () => {
      const { call, core, sent } = fakeCall(1);
      await call.send(1);
      const waiting = call.send(2);
      call.end();
      call.end();
      await assert.rejects(call.send(3), /after end\(\)/);
      assert.deepEqual(sent.map((m) => m.type), ['stream-data']);
      core.receiveCredit(1);
      await waiting;
      assert.deepEqual(sent.map((m) => m.type), ['stream-data', 'stream-data', 'stream-end']);
    });

    it('rejects values JSON cannot carry without sending anything', async () => {
      const { call, sent } = fakeCall();
      await assert.rejects(call.send(undefined as unknown as JsonValue), InvalidArgumentError);
      await assert.rejects(call.send(10n as unknown as JsonValue), InvalidArgumentError);
      assert.deepEqual(sent, []);
    });
  });

  describe('reading', () => {
    it('grants credit in half-window batches as items are consumed, never before', async () => {
      const { call, core, credits } = fakeCall(4);
      core.receiveData(0);
      core.receiveData(1);
      assert.deepEqual(credits(), []);
      const it = call[Symbol.asyncIterator]();
      assert.deepEqual(await it.next(), { value: 0, done: false });
      assert.deepEqual(credits(), []);
      assert.deepEqual(await it.next(), { value: 1, done: false });
      assert.deepEqual(credits(), [2]);
    });

    it('buffers at most the window: data past the credit is a ProtocolError', async () => {
      const { call, core, credits } = fakeCall(4);
      for (let i = 0; i < 4; i++) core.receiveData(i);
      assert.equal(call.buffered, 4);
      assert.throws(() => core.receiveData(4), ProtocolError);
      // A server out of credit gets it back with the first item consumed.
      await call[Symbol.asyncIterator]().next();
      assert.deepEqual(credits(), [1]);
      assert.equal(call.buffered, 3);
    });

    it('ends the iterator after the buffered items when the server ends', async () => {
      const { call, core } = fakeCall();
      core.receiveData('x');
      core.receiveData('y');
      core.receiveEnd();
      const got: JsonValue[] = [];
      for await (const item of call) got.push(item);
      assert.deepEqual(got, ['x', 'y']);
    });

    it('throws JugglerError from the iterator after the buffered items on stream-error', async () => {
      const { call, core } = fakeCall();
      core.receiveData('x');
      core.fail(new JugglerError({ why: 'no' }));
      const got: JsonValue[] = [];
      await assert.rejects(
        (async () => {
          for await (const item of call) got.push(item);
        })(),
        (err: unknown) => err instanceof JugglerError && (err.data as { why: string }).why === 'no',
      );
      assert.deepEqual(got, ['x']);
      assert.equal(call.done, true);
    });

    it('delivers to data listeners as items arrive, granting credit per delivery, then end', async () => {
      const { call, core, credits } = fakeCall(4);
      core.receiveData('early');
      const events: string[] = [];
      call.on('data', (v) => events.push(`data ${v}`));
      call.on('end', () => events.push('end'));
      call.on('error', () => events.push('error'));
      assert.deepEqual(events, [], 'buffered items go out on the next microtask');
      await tick();
      core.receiveData('late');
      core.receiveEnd();
      assert.deepEqual(events, ['data early', 'data late', 'end']);
      assert.deepEqual(credits(), [2]);
    });

    it('emits error at once, and reports a listener that throws', async () => {
      const { call, core, reported } = fakeCall();
      const errors: Error[] = [];
      call.on('error', (err) => errors.push(err));
      call.on('data', () => {
        throw new Error('listener bug');
      });
      core.receiveData(1);
      core.fail(new ConnectionLostError());
      assert.equal(errors.length, 1);
      assert.ok(errors[0] instanceof ConnectionLostError);
      assert.equal((reported[0] as Error).message, 'listener bug');
      const late: Error[] = [];
      call.on('error', (err) => late.push(err));
      await tick();
      assert.equal(late[0], errors[0], 'a late error listener still hears it');
    });

    it('on() returns its unregister function and checks its arguments', () => {
      const { call, core } = fakeCall();
      const got: JsonValue[] = [];
      const off = call.on('data', (v) => got.push(v));
      core.receiveData(1);
      off();
      core.receiveData(2);
      assert.deepEqual(got, [1]);
      assert.equal(call.buffered, 1);
      assert.throws(() => call.on('close' as 'end', () => {}), InvalidArgumentError);
      assert.throws(() => call.on('data', 5 as never), InvalidArgumentError);
    });
  });

  describe('#cancel', () => {
    it('sends stream-error, finishes the iterator without error, emits end not error, rejects pending sends', async () => {
      const { call, core, sent, finished } = fakeCall(1);
      await call.send('a');
      const pending = call.send('b');
      core.receiveData('unread');
      const events: string[] = [];
      call.on('end', () => events.push('end'));
      call.on('error', () => events.push('error'));
      const it = call[Symbol.asyncIterator]();
      call.cancel();
      call.cancel();
      await assert.rejects(pending, { name: 'AbortError' });
      assert.deepEqual(await it.next(), { value: undefined, done: true });
      assert.deepEqual(events, ['end']);
      assert.deepEqual(sent.at(-1), { type: 'stream-error', id: 7, data: 'cancelled' });
      assert.deepEqual(finished, [7]);
      core.receiveData('after');
      assert.equal(call.buffered, 0);
    });

    it('is what breaking out of a for-await does while the server still sends', async () => {
      const { call, core, sent } = fakeCall();
      core.receiveData(1);
      core.receiveData(2);
      for await (const item of call) {
        assert.equal(item, 1);
        break;
      }
      assert.equal(sent.at(-1)!.type, 'stream-error');
      assert.equal(call.done, true);
    });
  });

  it('has no internal members an application could call (the core takes what the server sends)', () => {
    const { call } = fakeCall();
    for (const name of ['start', 'receiveData', 'receiveEnd', 'receiveError', 'receiveCredit', 'fail']) assert.equal(name in call, false, name);
  });

  it('ends a call that sent nothing when the server ends; one that sent waits for end()', async () => {
    const quiet = fakeCall();
    quiet.core.receiveEnd();
    assert.equal(quiet.call.done, true);
    assert.deepEqual(quiet.sent, [{ type: 'stream-end', id: 7 }]);
    const talker = fakeCall();
    await talker.call.send(1);
    talker.core.receiveEnd();
    assert.equal(talker.call.done, false);
    await talker.call.send(2);
    talker.call.end();
    assert.equal(talker.call.done, true);
  });

  it('is over once both sides have ended', async () => {
    const { call, core, finished } = fakeCall();
    await call.send(0);
    call.end();
    assert.equal(call.done, false);
    core.receiveEnd();
    assert.equal(call.done, true);
    assert.deepEqual(finished, [7]);
    await assert.rejects(call.send(1), /over/);
    assert.throws(() => {
      const other = fakeCall().core;
      other.receiveEnd();
      other.receiveData(1);
    }, /after stream-end/);
  });
});
