import assert from 'node:assert/strict';
import { SendQueue, type QueueSocket } from '../../src/transport/send-queue.js';
import { delay, waitFor } from '../support/wait.js';

/** A socket whose buffer and write completions the test drives by hand. */
class FakeSocket implements QueueSocket {
  buffered = 0;
  /** What each send() got: the frame, and its callback if any. */
  readonly sent: { frame: string | Uint8Array; done: ((err?: Error) => void) | undefined }[] = [];
  /** Bytes a send leaves in the buffer (0: it goes out at once). */
  leaves = 0;

  send(frame: string | Uint8Array, done?: (err?: Error) => void): void {
    this.sent.push({ frame, done });
    this.buffered += this.leaves;
  }

  bufferedAmount(): number {
    return this.buffered;
  }

  /** Completes the i-th send's write, as the stream would (its callback, if any). */
  complete(i: number): void {
    this.sent[i]!.done?.();
  }
}

describe('SendQueue', () => {
  it('counts every message with a write callback when the socket cannot say what it holds', () => {
    const sent: ((err?: Error) => void)[] = [];
    const queue = new SendQueue({ send: (_frame, done) => void sent.push(done!) }, 10, () => {});
    queue.send('0a');
    queue.send('0b');
    assert.equal(queue.size, 2);
    assert.equal(sent.length, 2);
    sent[0]!();
    assert.equal(queue.size, 1);
    sent[1]!();
    assert.equal(queue.size, 0);
  });

  it('sends to a socket that keeps up without callbacks, counting nothing', () => {
    const socket = new FakeSocket();
    const queue = new SendQueue(socket, 10, () => {});
    for (let i = 0; i < 5; i++) queue.send(`0m${i}`);
    assert.equal(queue.size, 0);
    assert.deepEqual(
      socket.sent.map((s) => s.done),
      [undefined, undefined, undefined, undefined, undefined],
    );
  });

  it('counts a message that stayed in the buffer; the next callback accounts for it too', () => {
    const socket = new FakeSocket();
    const queue = new SendQueue(socket, 10, () => {});
    socket.leaves = 100;
    queue.send('0first'); // no callback, but it did not go out: counted
    assert.equal(queue.size, 1);
    assert.equal(socket.sent[0]!.done, undefined);
    queue.send('0second'); // the socket is backed up: this one carries a callback
    assert.equal(queue.size, 2);
    assert.equal(typeof socket.sent[1]!.done, 'function');
    socket.buffered = 0;
    socket.complete(1); // writes complete in order: the first is written too
    assert.equal(queue.size, 0);
  });

  it('finds out by polling when a message sent without a callback is written and nothing follows it', async () => {
    const socket = new FakeSocket();
    let rooms = 0;
    const queue = new SendQueue(socket, 1, () => void (rooms += 1));
    socket.leaves = 100;
    queue.send('0only');
    assert.equal(queue.full, true);
    const room = queue.waitRoom();
    setTimeout(() => (socket.buffered = 0), 30);
    await room;
    assert.equal(queue.size, 0);
    assert.equal(rooms, 1, 'onRoom ran once, when the queue went from full to not full');
    queue.close();
  });

  it('wakes waiting writers in order, as many as there is room for, and all of them on close', async () => {
    const socket = new FakeSocket();
    const queue = new SendQueue(socket, 2, () => {});
    socket.leaves = 10;
    queue.send('0a');
    queue.send('0b');
    assert.equal(queue.full, true);
    const woken: number[] = [];
    const waits = [1, 2, 3].map((n) => queue.waitRoom().then(() => woken.push(n)));
    socket.complete(1); // releases both: room for two
    await waitFor(() => woken.length === 2, 'two writers woken');
    assert.deepEqual(woken, [1, 2]);
    queue.close();
    await Promise.all(waits);
    assert.deepEqual(woken, [1, 2, 3]);
  });

  it('stops polling on close, so a socket that never drains keeps nothing alive', async () => {
    const socket = new FakeSocket();
    const queue = new SendQueue(socket, 1, () => assert.fail('no room was made'));
    socket.leaves = 10;
    queue.send('0stuck');
    queue.close();
    socket.buffered = 0;
    await delay(40);
    assert.equal(queue.size, 1, 'nothing counted after close');
  });

  describe('in a batch (a corked socket)', () => {
    it('sends without callbacks while the batch fills the buffer, and counts nothing when the batch is written at once', () => {
      const socket = new FakeSocket();
      const queue = new SendQueue(socket, 2, () => {});
      queue.beginBatch();
      socket.leaves = 10; // corked: every frame stays in the buffer until the batch ends
      for (let i = 0; i < 5; i++) queue.send(`0m${i}`);
      assert.equal(queue.size, 0);
      assert.equal(queue.full, false);
      assert.deepEqual(
        socket.sent.map((s) => s.done),
        [undefined, undefined, undefined, undefined, undefined],
      );
      socket.buffered = 0; // uncorked: all written
      queue.endBatch();
      assert.equal(queue.size, 0);
    });

    it('counts the batch when the socket still holds some of it, and releases it once written', async () => {
      const socket = new FakeSocket();
      let rooms = 0;
      const queue = new SendQueue(socket, 3, () => void (rooms += 1));
      queue.beginBatch();
      socket.leaves = 10;
      for (let i = 0; i < 3; i++) queue.send(`0m${i}`);
      queue.endBatch(); // the peer does not keep up: 30 bytes stay
      assert.equal(queue.size, 3);
      assert.equal(queue.full, true);
      queue.send('0after'); // the socket is behind: counted with a callback
      assert.equal(queue.size, 4);
      assert.equal(typeof socket.sent[3]!.done, 'function');
      socket.buffered = 0;
      socket.complete(3); // writes complete in order: the batch is written too
      assert.equal(queue.size, 0);
      assert.equal(rooms, 1);

      // With nothing after it, the poll finds the batch written.
      queue.beginBatch();
      queue.send('0x');
      queue.send('0y');
      queue.endBatch();
      assert.equal(queue.size, 2);
      setTimeout(() => (socket.buffered = 0), 20);
      await waitFor(() => queue.size === 0, 'the poll to release the batch');
      queue.close();
    });

    it('counts every message of a batch with a callback when the socket was behind before it began', () => {
      const socket = new FakeSocket();
      const queue = new SendQueue(socket, 10, () => {});
      socket.buffered = 50; // written before the batch and still held
      queue.beginBatch();
      queue.send('0a');
      queue.send('0b');
      queue.endBatch();
      assert.equal(queue.size, 2);
      assert.equal(typeof socket.sent[0]!.done, 'function');
      assert.equal(typeof socket.sent[1]!.done, 'function');
      socket.buffered = 0;
      socket.complete(0);
      socket.complete(1);
      assert.equal(queue.size, 0);
    });
  });
});
