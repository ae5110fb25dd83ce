/**
 * ClusterLog applies this node's own entry from its append's reply when it
 * landed right after the last entry applied, and otherwise waits for the
 * reader; the reader passes over what a reply applied. And while writes
 * keep coming, they linger after an append and travel together. A
 * stand-in sink plays Redis, so every interleaving is chosen, not raced.
 */
import assert from 'node:assert/strict';
import { ClusterLog, type LogSink } from '../../src/cluster/cluster-log.js';
import { ClusterState } from '../../src/cluster/cluster-state.js';
import type { AppendResult } from '../../src/cluster/log-appender.js';
import type { LogEntry } from '../../src/cluster/log-entry.js';
import type { JsonValue } from '../../src/index.js';

interface Sent {
  readonly epoch: string;
  readonly writeId: string;
  readonly body: string;
  resolve(result: AppendResult): void;
}

class Sink implements LogSink {
  following = true;
  wakes = 0;
  readonly passedSeqs: number[] = [];
  readonly sent: Sent[] = [];
  #n = 0;
  newWriteId(): string {
    return `me:${++this.#n}`;
  }
  append(epoch: string, writeId: string, body: string): Promise<AppendResult> {
    return new Promise((resolve) => this.sent.push({ epoch, writeId, body, resolve }));
  }
  wakeReader(): void {
    this.wakes += 1;
  }
  passed(seq: number): void {
    this.passedSeqs.push(seq);
  }
}

function setup(value: JsonValue = {}, linger = 0) {
  const sink = new Sink();
  const seen = { applied: [] as Array<[number, number]>, broadcasts: [] as unknown[], junk: [] as number[] };
  const log = new ClusterLog(sink, {
    onBroadcast: (name, data, time) => seen.broadcasts.push([name, data, time]),
    onJunk: (seq) => seen.junk.push(seq),
    onWrongEpoch: () => {},
    onApplied: (time, position) => seen.applied.push([time, position]),
    linger: () => linger,
  }, { epoch: 'e1', seq: 0, value });
  const state = new ClusterState(log, () => {});
  let changes = 0;
  state.onChange(() => (changes += 1));
  return { sink, log, state, seen, changes: () => changes };
}

/** The entry the reader would bring for `sent` at `seq`. */
function entryOf(sent: { epoch: string; writeId: string; body: string }, seq: number, time: number): LogEntry {
  return { seq, epoch: sent.epoch, nodeId: 'n', writeId: sent.writeId, time, text: sent.body };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('ClusterLog: own entries applied from the append reply', () => {
  it('applies a contiguous reply at once; the reader then passes over the entry with no effect', async () => {
    const { sink, log, state, seen, changes } = setup();
    const write = state.set('a', 1);
    await tick();
    const sent = sink.sent[0]!;
    sent.resolve({ status: 'appended', seq: 1, time: 100 });
    await write;
    assert.deepEqual(state.data, { a: 1 });
    assert.equal(log.seq, 1);
    assert.equal(sink.wakes, 0);
    // The reader is told, so it need not read the entry back.
    assert.deepEqual(sink.passedSeqs, [1]);
    assert.equal(log.waitsForReader, false);
    assert.deepEqual(seen.applied, [[100, 1]]);
    const version = log.versions.format(1);
    log.applyEntries([entryOf(sent, 1, 100)]);
    log.skip(1, 'junk at a seq already passed');
    assert.deepEqual(seen.applied, [[100, 1]]);
    assert.deepEqual(seen.junk, []);
    assert.equal(changes(), 1);
    assert.equal(log.seq, 1);
    assert.equal(log.versions.format(1), version);
  });

  it("waits for the reader when another node's entry lies between, wakes it, and applies in log order", async () => {
    const { sink, log, state, seen } = setup();
    let done = false;
    const write = state.set('a', 1).then(() => (done = true));
    await tick();
    const sent = sink.sent[0]!;
    sent.resolve({ status: 'appended', seq: 2, time: 200 });
    await tick();
    assert.equal(done, false);
    assert.equal(sink.wakes, 1);
    assert.deepEqual(sink.passedSeqs, []);
    assert.equal(log.waitsForReader, true);
    assert.deepEqual(state.data, {});
    const other = { epoch: 'e1', writeId: 'other:1', body: '{"w":[["s",["a"],0],["s",["b"],0]]}' };
    log.applyEntries([entryOf(other, 1, 150), entryOf(sent, 2, 200)]);
    await write;
    assert.deepEqual(state.data, { a: 1, b: 0 });
    assert.equal(log.waitsForReader, false);
    assert.deepEqual(seen.applied.map(([time]) => time), [150, 200]);
  });

  it('a later reply made contiguous by the reader is applied by the reader; the next one from its reply', async () => {
    const { sink, log, state } = setup();
    const first = state.set('x', 1);
    await tick();
    const second = state.set('x', 2);
    await tick();
    const [s1, s2] = sink.sent;
    // An other node's entry landed at 1: ours at 2 and 3.
    s1!.resolve({ status: 'appended', seq: 2, time: 2 });
    s2!.resolve({ status: 'appended', seq: 3, time: 3 });
    await tick();
    assert.equal(log.seq, 0);
    log.applyEntries([entryOf({ epoch: 'e1', writeId: 'o', body: '{"w":[]}' }, 1, 1), entryOf(s1!, 2, 2)]);
    await first;
    assert.equal(log.waitsForReader, true);
    log.applyEntries([entryOf(s2!, 3, 3)]);
    await second;
    const third = state.set('x', 3);
    await tick();
    sink.sent[2]!.resolve({ status: 'appended', seq: 4, time: 4 });
    await third;
    assert.deepEqual(sink.passedSeqs, [4]);
    assert.equal(log.seq, 4);
    assert.deepEqual(state.data, { x: 3 });
  });

  it('leaves a duplicate reply, a reply while the reader is stopped, and a reply of an older epoch to the reader', async () => {
    for (const kind of ['duplicate', 'stopped', 'epoch'] as const) {
      const { sink, log, state } = setup();
      let done = false;
      void state.set('a', 1).then(() => (done = true));
      await tick();
      if (kind === 'stopped') sink.following = false;
      if (kind === 'epoch') log.resume('e2', 0, {});
      sink.sent[0]!.resolve(kind === 'duplicate' ? { status: 'duplicate', seq: 1 } : { status: 'appended', seq: 1, time: 1 });
      await tick();
      assert.equal(done, false, kind);
      assert.equal(log.seq, 0, kind);
      assert.equal(sink.wakes, 1, kind);
      assert.deepEqual(sink.passedSeqs, [], kind);
    }
  });

  it('passes over an entry read back whose body is not ours or not JSON, as junk, on its seq', async () => {
    const { log, state, seen } = setup({ n: 0 });
    log.applyEntries([
      entryOf({ epoch: 'e1', writeId: 'o1', body: '{not json' }, 1, 1),
      entryOf({ epoch: 'e1', writeId: 'o2', body: '{"x":1}' }, 2, 2),
      entryOf({ epoch: 'e1', writeId: 'o3', body: '{"w":[["s",["n"],3]]}' }, 3, 3),
    ]);
    assert.deepEqual(seen.junk, [1, 2]);
    assert.equal(log.seq, 3);
    assert.deepEqual(state.data, { n: 3 });
  });

  it('delivers a broadcast applied from its reply once, after the state as of it', async () => {
    const { sink, log, state, seen } = setup({ n: 0 });
    void state.set('n', 1);
    const delivered = log.broadcast('hello', { x: 1 });
    await tick();
    const [w, b] = sink.sent;
    w!.resolve({ status: 'appended', seq: 1, time: 10 });
    b!.resolve({ status: 'appended', seq: 2, time: 11 });
    await delivered;
    assert.deepEqual(seen.broadcasts, [['hello', { x: 1 }, 11]]);
    log.applyEntries([entryOf(w!, 1, 10), entryOf(b!, 2, 11)]);
    assert.deepEqual(seen.broadcasts, [['hello', { x: 1 }, 11]]);
    assert.equal(log.seq, 2);
  });
});

const microtasks = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** Past the turn of the event loop in which writes settled (its end is an immediate queued when they did). */
const nextTurn = async (): Promise<void> => {
  await tick();
  await tick();
};

describe('ClusterLog: writes linger after an append while they keep coming', () => {
  const LINGER = 40;

  /** A log with a linger whose write `a: 1` was just appended and applied, in an earlier turn of the event loop. */
  async function appendedOne() {
    const parts = setup({}, LINGER);
    void parts.state.set('a', 1);
    await microtasks();
    parts.sink.sent[0]!.resolve({ status: 'appended', seq: 1, time: 1 });
    await nextTurn();
    return parts;
  }

  it('appends the first write after a quiet spell at once, and gathers the next ones into one entry after the window', async () => {
    const { sink, state } = setup({}, LINGER);
    const first = state.set('a', 1);
    await microtasks();
    assert.equal(sink.sent.length, 1, 'the first write goes a microtask later');
    sink.sent[0]!.resolve({ status: 'appended', seq: 1, time: 1 });
    await first;
    await nextTurn(); // what follows is not the continuation of an awaited write
    const started = performance.now();
    const later = [state.set('b', 2), state.set('c', 3)];
    await tick();
    state.set('d', 4).catch(() => {});
    await microtasks();
    assert.equal(sink.sent.length, 1, 'writes made within the window after an append wait');
    while (sink.sent.length < 2 && performance.now() - started < 2000) await sleep(5);
    assert.equal(sink.sent.length, 2);
    assert.deepEqual(JSON.parse(sink.sent[1]!.body), { w: [['s', ['b'], 2], ['s', ['c'], 3], ['s', ['d'], 4]] }, 'three runs, one entry');
    sink.sent[1]!.resolve({ status: 'appended', seq: 2, time: 2 });
    await Promise.all(later);
    assert.deepEqual(state.data, { a: 1, b: 2, c: 3, d: 4 });
  });

  it('sends a lingering batch with the first write after its window, and half a window later when no write comes', async () => {
    // A long window, so that a slow machine's stall cannot pass for the timer.
    const WINDOW = 400;
    const { sink, state } = setup({}, WINDOW);
    const first = performance.now();
    void state.set('a', 1);
    await microtasks();
    sink.sent[0]!.resolve({ status: 'appended', seq: 1, time: 1 });
    await nextTurn();
    void state.set('b', 2);
    await sleep(first + WINDOW + 50 - performance.now());
    assert.equal(sink.sent.length, 1, 'the window is over, but no timer sends the batch at its end');
    void state.set('c', 3);
    await microtasks();
    assert.equal(sink.sent.length, 2, 'the next write sends it, in its own turn');
    assert.deepEqual(JSON.parse(sink.sent[1]!.body), { w: [['s', ['b'], 2], ['s', ['c'], 3]] });
    const second = performance.now();
    sink.sent[1]!.resolve({ status: 'appended', seq: 2, time: 2 });
    await nextTurn();
    void state.set('d', 4);
    while (sink.sent.length < 3 && performance.now() - second < 5000) await sleep(5);
    assert.equal(sink.sent.length, 3, 'a write that no other follows goes by the timer');
    assert.ok(performance.now() - second >= WINDOW * 1.4, `sent ${(performance.now() - second).toFixed(0)} ms after the append`);
  });

  it('sends a write made in the continuation of an awaited one at once', async () => {
    const { sink, state } = setup({}, LINGER);
    for (let i = 1; i <= 3; i++) {
      const write = state.set('n', i);
      await microtasks();
      assert.equal(sink.sent.length, i, `write ${i} goes at once`);
      sink.sent[i - 1]!.resolve({ status: 'appended', seq: i, time: i });
      await write;
    }
    assert.deepEqual(state.data, { n: 3 });
  });

  it('sends a lingering batch at once when someone waits for it (settled(), a broadcast)', async () => {
    const { sink, state, log } = await appendedOne();
    void state.set('b', 2);
    await microtasks();
    assert.equal(sink.sent.length, 1);
    const settled = state.settled();
    await microtasks();
    assert.equal(sink.sent.length, 2, 'settled() does not wait out the window');
    sink.sent[1]!.resolve({ status: 'appended', seq: 2, time: 2 });
    await settled;
    await nextTurn();
    void state.set('c', 3);
    const delivered = log.broadcast('news', 1);
    await microtasks();
    assert.equal(sink.sent.length, 4, 'a broadcast takes the lingering writes before it, at once');
    assert.deepEqual(JSON.parse(sink.sent[2]!.body), { w: [['s', ['c'], 3]] });
    sink.sent[2]!.resolve({ status: 'appended', seq: 3, time: 3 });
    sink.sent[3]!.resolve({ status: 'appended', seq: 4, time: 4 });
    await delivered;
    assert.deepEqual(state.data, { a: 1, b: 2, c: 3 });
  });

  it('rejects a lingering write when the log fails all (the node closes), and appends nothing after', async () => {
    const { sink, state, log } = await appendedOne();
    const lingering = state.set('b', 2);
    log.failAll(new Error('closing'));
    await assert.rejects(lingering, /closing/);
    await sleep(LINGER * 2);
    assert.equal(sink.sent.length, 1);
  });
});
