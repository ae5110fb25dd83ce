/**
 * The work of a shared state does not grow with the number of clients
 * (issue 4): over real sockets, one flush computes its diff once and
 * encodes it once, however many connections get it, and clients joining
 * at the same version share one serialization of the whole value.
 *
 * Counted three ways: the shared StateChannel's `stats` (the channel is
 * private to the server, so it is caught as it gets its first subscriber),
 * the storage's change log (`diffText` calls), and the frames each
 * connection is handed (the very same object for all, so it was encoded
 * once), plus `JSON.stringify` calls on the whole value.
 */
import assert from 'node:assert/strict';
import { Storage, type Connection } from '../../src/index.js';
import { StateChannel } from '../../src/state/state-channel.js';
import type { EncodedMessage } from '../../src/transport/transport.js';
import { onCleanup } from '../support/cleanup.js';
import { RawClient } from '../support/raw-client.js';
import { startServer } from '../support/server.js';
import { waitFor } from '../support/wait.js';
import { changeLogOf } from '../../src/state/storage.js';

/** The StateChannels that get a subscriber during this test (the server's shared one is private). */
function catchChannels(): Set<StateChannel> {
  const channels = new Set<StateChannel>();
  const join = StateChannel.prototype.join;
  StateChannel.prototype.join = function (this: StateChannel, ...args: Parameters<typeof join>) {
    channels.add(this);
    return join.apply(this, args);
  };
  onCleanup(() => {
    StateChannel.prototype.join = join;
  });
  return channels;
}

/** Records the frames objects the channel hands to `conn` (as the state channel calls it: by `sendEncoded`). */
function recordFrames(conn: Connection, into: EncodedMessage[]): void {
  const send = conn.sendEncoded.bind(conn);
  conn.sendEncoded = (frames) => {
    into.push(frames);
    send(frames);
  };
}

/** Counts `diffText` calls on the storage's change log: each is one diff built. */
function countDiffs(storage: Storage): { count: number } {
  const counter = { count: 0 };
  const log = changeLogOf(storage);
  const diffText = log.diffText;
  log.diffText = function (this: typeof log, ...args: Parameters<typeof diffText>) {
    counter.count += 1;
    return diffText.apply(this, args);
  };
  onCleanup(() => {
    delete (log as { diffText?: unknown }).diffText;
  });
  return counter;
}

/** Counts serializations of `value` itself (not of messages that contain it). */
function countStringify(value: () => unknown): { count: number } {
  const counter = { count: 0 };
  const stringify = JSON.stringify;
  JSON.stringify = function (this: JSON, ...args: Parameters<typeof stringify>) {
    if (args[0] === value()) counter.count += 1;
    return stringify.apply(this, args);
  } as typeof stringify;
  onCleanup(() => {
    JSON.stringify = stringify;
  });
  return counter;
}

function only<T>(items: Iterable<T>): T {
  const all = [...items];
  assert.equal(all.length, 1);
  return all[0]!;
}

const connectAll = (url: string, n: number): Promise<RawClient[]> => Promise.all(Array.from({ length: n }, () => RawClient.connect(url)));

describe('StateChannel on a shared state, over sockets', () => {
  it('computes and encodes one diff per flush for 50 connections, and every client gets it', async () => {
    const N = 50;
    const storage = new Storage({ plant: { pump: { rpm: 1450, on: true } }, alarms: [] });
    const channels = catchChannels();
    const server = await startServer({ state: storage, autoflushDelay: null });
    const clients = await connectAll(server.url, N);
    await Promise.all(clients.map((c) => c.next((m) => m.type === 'state')));
    await waitFor(() => [...server.connections].length === N, `${N} connections`);
    const channel = only(channels);
    const diffs = countDiffs(storage);
    const handed: EncodedMessage[] = [];
    for (const conn of server.connections) recordFrames(conn, handed);
    const before = { ...channel.stats };

    storage.set(['plant', 'pump', 'rpm'], 1500);
    await [...server.connections][0]!.flush();

    assert.equal(channel.stats.flushes - before.flushes, 1, 'flushes');
    assert.equal(channel.stats.diffsComputed - before.diffsComputed, 1, 'diffs computed');
    assert.equal(channel.stats.messagesEncoded - before.messagesEncoded, 1, 'messages encoded');
    assert.equal(channel.stats.wholeValueEncodings - before.wholeValueEncodings, 0, 'whole-value encodings');
    assert.equal(diffs.count, 1, 'diffs built from the change log');
    assert.equal(handed.length, N, 'one message per connection');
    assert.ok(
      handed.every((frames) => frames === handed[0]),
      'every connection is handed the very same frames',
    );
    const expected = { type: 'state', diff: [{ op: 'replace', path: '/plant/pump/rpm', value: 1500 }] };
    const received = await Promise.all(clients.map((c) => c.next((m) => m.type === 'state' && m.diff[0]?.path === '/plant/pump/rpm')));
    for (const message of received) assert.deepEqual(message, expected);
  });

  it('coalesces many changes into one diff, still computed and encoded once', async () => {
    const N = 50;
    const storage = new Storage({ points: { a: 0, b: 0 } });
    const channels = catchChannels();
    const server = await startServer({ state: storage, autoflushDelay: null });
    const clients = await connectAll(server.url, N);
    await Promise.all(clients.map((c) => c.next((m) => m.type === 'state')));
    const channel = only(channels);
    const diffs = countDiffs(storage);
    const before = { ...channel.stats };

    for (let i = 1; i <= 100; i++) storage.set(['points', i % 2 === 0 ? 'a' : 'b'], i);
    await [...server.connections][0]!.flush();

    assert.equal(channel.stats.diffsComputed - before.diffsComputed, 1, 'diffs computed');
    assert.equal(channel.stats.messagesEncoded - before.messagesEncoded, 1, 'messages encoded');
    assert.equal(diffs.count, 1, 'diffs built from the change log');
    const received = await Promise.all(clients.map((c) => c.next((m) => m.type === 'state' && m.diff.length === 2)));
    for (const message of received) {
      assert.deepEqual(message.diff, [
        { op: 'replace', path: '/points/b', value: 99 },
        { op: 'replace', path: '/points/a', value: 100 },
      ]);
    }
  });

  it('serializes the whole value once for 20 clients joining at the same version, and once more for a new version', async () => {
    const points: Record<string, { value: number }> = {};
    for (let i = 0; i < 200; i++) points[`p${i}`] = { value: i };
    const storage = new Storage({ points });
    const channels = catchChannels();
    const stringified = countStringify(() => storage.data);
    const handed = new Map<Connection, EncodedMessage[]>();
    const server = await startServer({
      state: storage,
      autoflushDelay: null,
      onConnection: (conn) => {
        const frames: EncodedMessage[] = [];
        handed.set(conn, frames);
        recordFrames(conn, frames);
      },
    });

    const clients = await connectAll(server.url, 20);
    const firsts = await Promise.all(clients.map((c) => c.next((m) => m.type === 'state')));
    const whole = { type: 'state', diff: [{ op: 'replace', path: '', value: storage.data }] };
    for (const message of firsts) assert.deepEqual(message, whole);
    const channel = only(channels);
    assert.equal(channel.stats.wholeValueEncodings, 1, 'whole-value encodings for 20 joiners');
    assert.equal(stringified.count, 1, 'JSON.stringify of the whole value');
    const joinFrames = [...handed.values()].map((list) => list[0]);
    assert.equal(joinFrames.length, 20);
    assert.ok(
      joinFrames.every((frames) => frames === joinFrames[0]),
      'every joiner is handed the very same frames',
    );

    // A new version: the next joiners share one new serialization.
    storage.set(['points', 'p0', 'value'], -1);
    await [...server.connections][0]!.flush();
    const late = await connectAll(server.url, 5);
    const lateFirsts = await Promise.all(late.map((c) => c.next((m) => m.type === 'state')));
    for (const message of lateFirsts) assert.deepEqual(message.diff[0].value.points.p0, { value: -1 });
    assert.equal(channel.stats.wholeValueEncodings, 2, 'whole-value encodings after a change and 5 more joiners');
    assert.equal(stringified.count, 2, 'JSON.stringify of the whole value after a change and 5 more joiners');
  });
});
