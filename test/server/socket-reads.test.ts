import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import { takeOverReads, type ReadHooks } from '../../src/server/socket-reads.js';
import { WsTransportSocket } from '../../src/server/ws-socket.js';
import type { WebSocket } from 'ws';

/** A socket that records each write the stream makes (one entry per `_write`/`_writev` call). */
class RecordingSocket extends Duplex {
  readonly writes: string[][] = [];
  override _read(): void {}
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.writes.push([chunk.toString()]);
    done();
  }
  override _writev(chunks: { chunk: Buffer }[], done: () => void): void {
    this.writes.push(chunks.map((c) => c.chunk.toString()));
    done();
  }
}

function hooks(): ReadHooks & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    received: (bytes) => void log.push(`received ${bytes}`),
    begin: () => void log.push('begin'),
    end: () => void log.push('end'),
  };
}

describe('takeOverReads (the socket read path)', () => {
  it('counts each read, then hands it to the one listener with the socket corked: its answers leave in one write', () => {
    const socket = new RecordingSocket();
    const seen: string[] = [];
    // Stands in for ws: answers every message of a read with a write of its own.
    const theirs = (chunk: Buffer): void => {
      seen.push(chunk.toString());
      for (const m of chunk.toString().split(',')) socket.write(`answer ${m}`);
    };
    socket.on('data', theirs);
    const h = hooks();
    takeOverReads(socket, h);
    assert.equal(socket.listenerCount('data'), 1, 'still one data listener');
    socket.emit('data', Buffer.from('a,b,c'));
    assert.deepEqual(seen, ['a,b,c']);
    assert.deepEqual(socket.writes, [['answer a', 'answer b', 'answer c']]);
    assert.deepEqual(h.log, ['received 5', 'begin', 'end']);
    assert.equal(socket.writableCorked, 0);
  });

  it('goes away when the listener it replaced is removed (as ws does on close or error), and stays uncorked after a throw', () => {
    const socket = new RecordingSocket();
    let fail = true;
    const theirs = (): void => {
      socket.write('x');
      if (fail) throw new Error('boom');
    };
    socket.on('data', theirs);
    const h = hooks();
    takeOverReads(socket, h);
    assert.throws(() => socket.emit('data', Buffer.from('12')), /boom/);
    assert.equal(socket.writableCorked, 0);
    assert.deepEqual(socket.writes, [['x']]);
    assert.deepEqual(h.log, ['received 2', 'begin', 'end']);
    fail = false;
    socket.removeListener('data', theirs);
    assert.equal(socket.listenerCount('data'), 0);
  });

  it('with another data listener present, counts with a listener of its own (no cork) until stopped', () => {
    const socket = new RecordingSocket();
    const order: string[] = [];
    socket.on('data', () => void order.push('ws'));
    socket.on('data', () => void order.push('other'));
    const h = hooks();
    const stop = takeOverReads(socket, h);
    socket.emit('data', Buffer.from('123'));
    assert.deepEqual(order, ['ws', 'other']);
    assert.deepEqual(h.log, ['received 3']);
    stop();
    socket.emit('data', Buffer.from('4567'));
    assert.deepEqual(h.log, ['received 3']);
    assert.equal(socket.listenerCount('data'), 2);
  });

  it('stops counting when stopped, while the reads still reach the listener it replaced', () => {
    const socket = new RecordingSocket();
    const seen: number[] = [];
    socket.on('data', (chunk: Buffer) => void seen.push(chunk.length));
    const h = hooks();
    const stop = takeOverReads(socket, h);
    stop();
    socket.emit('data', Buffer.from('abc'));
    assert.deepEqual(seen, [3]);
    assert.deepEqual(h.log, ['begin', 'end']);
  });

  it("the ws adapter's flush writes out what the corked socket holds and leaves it corked", () => {
    const socket = new RecordingSocket();
    const adapter = new WsTransportSocket({} as WebSocket, socket);
    adapter.flush!(); // not corked: nothing to do
    assert.equal(socket.writableCorked, 0);
    socket.cork();
    socket.write('pong');
    assert.deepEqual(socket.writes, []);
    adapter.flush!();
    assert.deepEqual(socket.writes, [['pong']]);
    assert.equal(socket.writableCorked, 1);
    socket.write('later');
    socket.uncork();
    assert.deepEqual(socket.writes, [['pong'], ['later']]);
  });
});
