/**
 * The writer node applies its own entry from its append's reply when the
 * entry landed right after the last one it applied (docs/cluster.md, "One
 * log"); otherwise it waits for the reader. Over real Redis, with servers
 * whose autoflushDelay makes the readers rest between reads.
 */
import assert from 'node:assert/strict';
import { connect } from '../../src/client/index.js';
import { EXTENSION_PROTOCOL } from '../../src/protocol/messages.js';
import { decodeBody } from '../../src/cluster/entry-body.js';
import { parseEntry } from '../../src/cluster/log-entry.js';
import { InvalidArgumentError, Storage, type JsonValue } from '../../src/index.js';
import { onCleanup } from '../support/cleanup.js';
import { RawClient } from '../support/raw-client.js';
import { useRedis } from '../support/redis-server.js';
import { deferred, delay, waitFor } from '../support/wait.js';
import { freshName, node, serve } from './cluster-helpers.js';
import { rawClient } from './store-helpers.js';

type Node = Awaited<ReturnType<typeof node>>;

function seqOf(n: Node): number {
  return Number(n.version.slice(n.version.lastIndexOf('.') + 1));
}

/** The value after each entry of the log, by seq, replayed from `initial` by Storage's rules (what every node must hold there). */
async function replayLog(url: string, name: string, initial: JsonValue): Promise<{ values: Map<number, string>; nodes: string[] }> {
  const raw = await rawClient(url);
  const scratch = new Storage(structuredClone(initial));
  const values = new Map<number, string>([[0, JSON.stringify(scratch.data)]]);
  const nodes: string[] = [];
  for (const { id, message } of await raw.xRange(`koa-juggler:${name}:log`, '-', '+')) {
    const parsed = parseEntry(id, message);
    assert.equal(parsed.kind, 'entry');
    if (parsed.kind !== 'entry') continue;
    nodes.push(parsed.entry.nodeId);
    const body = decodeBody(parsed.entry.text);
    assert.ok(typeof body !== 'string');
    if (body.kind === 'writes') {
      for (const w of body.entry) {
        try {
          if (w.kind === 'set') scratch.set(w.path, w.value);
          else scratch.remove(w.path);
        } catch (err) {
          if (!(err instanceof InvalidArgumentError)) throw err;
        }
      }
    }
    values.set(parsed.entry.seq, JSON.stringify(scratch.data));
  }
  return { values, nodes };
}

describe('the writer applies its own entries from the append reply', function () {
  this.timeout(30000);
  const redis = useRedis();

  it('two nodes writing interleaved converge: the same value at every version, versions ascending, the same end', async () => {
    const name = freshName();
    const initial = { points: {}, list: [0, 0, 0] };
    const a = await node(redis().url, name, { initial });
    const b = await node(redis().url, name);
    // Readers rest between reads, so a reply often finds the other node's entry not yet applied.
    await serve(a, { autoflushDelay: 200 });
    await serve(b, { autoflushDelay: 200 });
    const seen = new Map<Node, Array<[number, string]>>([[a, []], [b, []]]);
    const record = (n: Node) => (): void => {
      seen.get(n)!.push([seqOf(n), JSON.stringify(n.state.data)]);
    };
    const writes: Promise<void>[] = [];
    for (let tick = 0; tick < 60; tick++) {
      for (const [i, n] of [a, b].entries()) {
        writes.push(n.state.set(['points', `p${tick % 5}`], { by: i, tick }).then(record(n)));
        writes.push(n.state.set(['list', (tick + i) % 3], tick).then(record(n)));
        // Skipped at its place on every node alike when the list was replaced by a number.
        if (tick % 7 === 0) writes.push(n.state.set('list', tick % 2 === 0 ? [tick, tick, tick] : 1).then(record(n), record(n)));
      }
      await delay(5);
    }
    await Promise.allSettled(writes);
    await waitFor(() => a.version === b.version, 'both nodes applied every entry');
    assert.equal(JSON.stringify(a.state.data), JSON.stringify(b.state.data));
    const { values, nodes } = await replayLog(redis().url, name, initial);
    assert.equal(seqOf(a), nodes.length);
    assert.equal(JSON.stringify(a.state.data), values.get(nodes.length));
    // The nodes' entries did interleave: some of each node's entries landed right after the other's.
    const after = (x: Node, y: Node) => nodes.some((id, i) => i > 0 && id === x.nodeId && nodes[i - 1] === y.nodeId);
    assert.ok(after(a, b) && after(b, a), 'entries of both nodes interleave in the log');
    for (const [n, pairs] of seen) {
      assert.equal(pairs.length, writes.length / 2);
      for (let i = 0; i < pairs.length; i++) {
        const [seq, value] = pairs[i]!;
        if (i > 0) assert.ok(seq >= pairs[i - 1]![0], `versions on ${n.nodeId} never go backwards`);
        assert.equal(value, values.get(seq), `${n.nodeId} at entry ${seq} holds the log's value there`);
      }
    }
    assert.deepEqual([...a.errors, ...b.errors], []);
  });

  it("resolves a write before the reader delivered it, and the writer's reader rests between reads", async () => {
    const a = await node(redis().url, freshName(), { initial: { v: -1 } });
    await serve(a, { autoflushDelay: 200 });
    let reads = 0;
    const readBack = new Set<number>();
    a.store.on('entries', (entries) => {
      reads += 1;
      for (const entry of entries) readBack.add(entry.seq);
    });
    const count = 60;
    let early = 0;
    const started = Date.now();
    for (let i = 0; i < count; i++) {
      await a.state.set('v', i);
      // Applied, with its version, the moment the promise resolves.
      assert.equal(a.state.get('v'), i);
      if (!readBack.has(seqOf(a))) early += 1;
      await delay(10);
    }
    const elapsed = Date.now() - started;
    assert.ok(early > 0, `${early} of ${count} writes resolved before the reader brought them`);
    // A read that brought entries is followed by a rest of 50 ms (a quarter of 200, at most MAX_READ_PAUSE),
    // or more while this node keeps writing and every entry came back in its reply, so reads are few: one per write without the rest.
    assert.ok(reads <= elapsed / 25 + 2, `${reads} reads in ${elapsed} ms`);
    // Most entries the reader never reads back: it passes over them.
    assert.ok(readBack.size < count / 2, `${readBack.size} of ${count} entries read back`);
    await waitFor(() => a.store.followPosition === count, 'the reader caught up');
    assert.equal(seqOf(a), count);
    assert.equal(a.state.get('v'), count - 1);
    assert.deepEqual(a.errors, []);
  });

  it('resolves writes while the reader brings nothing, and changes nothing when their entries come later', async () => {
    const a = await node(redis().url, freshName(), { initial: { v: 0 } });
    await serve(a, { autoflushDelay: 200 });
    // Hold back what the reader reads: only the append replies can apply anything now.
    const held: unknown[][] = [];
    const original = a.store.emit;
    const emit = original.bind(a.store) as (event: string, ...args: unknown[]) => boolean;
    a.store.emit = ((event: string, ...args: unknown[]) => (event === 'entries' ? held.push(args) > 0 : emit(event, ...args))) as typeof original;
    let changes = 0;
    a.state.onChange(() => (changes += 1));
    for (let i = 1; i <= 5; i++) {
      await a.state.set('v', i);
      assert.equal(a.state.get('v'), i);
      assert.equal(seqOf(a), i);
    }
    await waitFor(() => a.store.followPosition === 5, 'the reader read every entry');
    a.store.emit = original;
    assert.ok(held.length > 0);
    for (const args of held) emit('entries', ...args);
    assert.equal(seqOf(a), 5);
    assert.equal(changes, 5);
    assert.deepEqual(a.state.data, { v: 5 });
    assert.deepEqual(a.errors, []);
  });

  it('lets a resume waiting for a version go ahead once the writer applied it from its reply', async () => {
    const name = freshName();
    const big: Record<string, number> = {};
    for (let i = 0; i < 200; i++) big[`k${i}`] = i;
    const a = await node(redis().url, name, { initial: big, resumeWait: 5000 });
    const b = await node(redis().url, name);
    const server = await serve(a);
    // a's reader brings nothing and its replies wait for the gate: a applies its entry only when the gate opens.
    const original = a.store.emit;
    const emit = original.bind(a.store) as (event: string, ...args: unknown[]) => boolean;
    a.store.emit = ((event: string, ...args: unknown[]) => event === 'entries' || emit(event, ...args)) as typeof original;
    const gate = deferred();
    const append = a.store.append.bind(a.store);
    a.store.append = (...args) => append(...args).then(async (result) => (await gate.promise, result));
    void a.state.set('k1', -1);
    await waitFor(() => seqOf(b) === seqOf(a) + 1, 'b applied the entry');
    const client = await RawClient.connect(`ws://127.0.0.1:${server.port}/ws`, { protocols: [EXTENSION_PROTOCOL] });
    client.send({ type: 'hello', session: null, version: b.version });
    await delay(300);
    assert.equal(client.messages.filter((m) => m.type === 'state').length, 0, 'no state before a applied the version');
    const started = Date.now();
    gate.resolve();
    await waitFor(() => a.version === b.version, 'a applied its entry from the reply');
    await a.state.set('k2', -2);
    const first = await client.next((m) => m.type === 'state');
    assert.ok(Date.now() - started < 2000, 'the resume went ahead when the entry was applied, not at resumeWait');
    assert.deepEqual(first.diff, [{ op: 'replace', path: '/k2', value: -2 }]);
    assert.equal(first.version, a.version);
  });

  it('delivers each broadcast once, in log order, after the state as of it, on the writer and the other node', async () => {
    const name = freshName();
    const a = await node(redis().url, name, { initial: { n: 0 } });
    const b = await node(redis().url, name);
    const sa = await serve(a, { autoflushDelay: 200 });
    const sb = await serve(b, { autoflushDelay: 200 });
    const listen = async (port: number) => {
      const seen: Array<[string, unknown, unknown]> = [];
      const client = await connect(`ws://127.0.0.1:${port}/ws`, { onNotify: (event, data) => seen.push([event, data, (client.state as { n: number }).n]) });
      onCleanup(async () => {
        client.close();
        await client.closed;
      });
      return seen;
    };
    const onA = await listen(sa.port);
    const onB = await listen(sb.port);
    const plainA = await RawClient.connect(`ws://127.0.0.1:${sa.port}/ws`);
    const count = 10;
    for (let i = 1; i <= count; i++) {
      void a.state.set('n', i);
      await sa.broadcast('tick', i);
      await delay(5);
    }
    await waitFor(() => a.store.followPosition === seqOf(a) && b.version === a.version, 'both readers read every entry');
    await waitFor(() => onA.length >= count && onB.length >= count, 'the broadcasts reached both nodes');
    // Longer than a rest between reads: a second delivery would show by now.
    await delay(300);
    const expected = Array.from({ length: count }, (_, k) => ['tick', k + 1, k + 1]);
    assert.deepEqual(onA, expected);
    assert.deepEqual(onB, expected);
    assert.deepEqual(plainA.messages.filter((m) => m.type === 'notify').map((m) => m.data), expected.map((e) => e[1]));
  });

  it('conn.flush() after a write on the writer node sends the diff before the response', async () => {
    const a = await node(redis().url, freshName(), { initial: { v: 0 } });
    const server = await serve(a, {
      autoflushDelay: null,
      async onRequest(conn, _name, data) {
        void a.state.set('v', data as number);
        await conn.flush();
        return data;
      },
    });
    const client = await RawClient.connect(`ws://127.0.0.1:${server.port}/ws`);
    await client.next((m) => m.type === 'state');
    for (let k = 1; k <= 5; k++) {
      const before = client.messages.length;
      client.request(k, 'set', k);
      await client.response(k);
      const sent = client.messages.slice(before).map((m) => (m.type === 'state' ? ['state', m.diff] : [m.type]));
      assert.deepEqual(sent, [['state', [{ op: 'replace', path: '/v', value: k }]], ['response']]);
    }
  });
});
