import assert from 'node:assert/strict';
import { connect } from '../../src/client/index.js';
import { EXTENSION_PROTOCOL } from '../../src/protocol/messages.js';
import { onCleanup } from '../support/cleanup.js';
import { RawClient } from '../support/raw-client.js';
import { useRedis } from '../support/redis-server.js';
import { waitFor } from '../support/wait.js';
import { freshName, node, serve } from './cluster-helpers.js';

/** JSON text with object keys sorted. */
function sorted(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  );
}

async function ourClient(port: number) {
  const client = await connect(`ws://127.0.0.1:${port}/ws`);
  onCleanup(async () => {
    client.close();
    await client.closed;
  });
  return client;
}

async function extension(port: number, version: string | null = null): Promise<RawClient> {
  const raw = await RawClient.connect(`ws://127.0.0.1:${port}/ws`, { protocols: [EXTENSION_PROTOCOL] });
  raw.send({ type: 'hello', session: null, version });
  await raw.next((m) => m.type === 'welcome');
  return raw;
}

describe('listen({ cluster })', function () {
  this.timeout(20000);
  const redis = useRedis();

  it('three nodes: a change made anywhere reaches every client; values and versions end identical', async () => {
    const name = freshName();
    const nodes: Awaited<ReturnType<typeof node>>[] = [];
    for (let i = 0; i < 3; i++) nodes.push(await node(redis().url, name, { initial: { points: {}, list: [] } }));
    const servers = await Promise.all(nodes.map((n) => serve(n)));
    const ours = await Promise.all(servers.map((s) => ourClient(s.port)));
    const plain = await Promise.all(servers.map((s) => RawClient.connect(`ws://127.0.0.1:${s.port}/ws`)));
    const writes = [];
    for (let i = 0; i < 30; i++) {
      const n = nodes[i % 3]!;
      writes.push(n.state.set(['points', `p${i % 7}`], { v: i }));
      writes.push(n.state.set(['list', i % 5], i));
      if (i % 4 === 0) writes.push(n.state.remove(['points', `p${(i + 3) % 7}`]));
    }
    await Promise.all(writes);
    await waitFor(() => nodes.every((n) => n.version === nodes[0]!.version), 'every node applied every entry');
    const expected = JSON.stringify(nodes[0]!.state.data);
    for (const n of nodes) assert.equal(JSON.stringify(n.state.data), expected);
    // Nodes hold byte-identical values; a client's key order may differ where a flush compacted
    // a remove and a later add of one key (the single-process sync does the same), so clients compare canonically.
    const canonical = sorted(nodes[0]!.state.data);
    await waitFor(() => ours.every((c) => sorted(c.state) === canonical), 'our clients hold the value');
    await waitFor(() => ours.every((c) => c.version === ours[0]!.version), 'our clients hold the same version');
    assert.equal(ours[0]!.version, nodes[0]!.version);
    // The plain clients: replay their diffs with the official semantics.
    const { applyPatch } = await import('../../src/state/apply-patch.js');
    for (const raw of plain) {
      await waitFor(() => {
        let value: unknown = null;
        for (const m of raw.messages) if (m.type === 'state') value = applyPatch(value as never, m.diff);
        return sorted(value) === canonical;
      }, 'a plain client holds the value');
    }
  });

  it('broadcast: state as of the broadcast first, then the notification, on every node, plain connections included', async () => {
    const name = freshName();
    const a = await node(redis().url, name, { initial: { n: 0 } });
    const b = await node(redis().url, name);
    const sa = await serve(a, { autoflushDelay: null });
    const sb = await serve(b, { autoflushDelay: null });
    const onB = await ourClient(sb.port);
    const plainB = await RawClient.connect(`ws://127.0.0.1:${sb.port}/ws`);
    const seen: unknown[] = [];
    const client = await connect(`ws://127.0.0.1:${sb.port}/ws`, { onNotify: (name, data) => seen.push([name, data, structuredClone(client.state)]) });
    onCleanup(async () => {
      client.close();
      await client.closed;
    });
    void a.state.set('n', 1);
    await sa.broadcast('hello', { x: 1 });
    await waitFor(() => seen.length === 1, 'the broadcast reached node b');
    assert.deepEqual(seen[0], ['hello', { x: 1 }, { n: 1 }]);
    await plainB.next((m) => m.type === 'notify' && m.name === 'hello');
    assert.ok(onB.state);
    // Without a cluster too: this node's connections, at once.
    assert.throws(() => sa.broadcast(1 as never, null), /name/);
  });

  it('tells extension connections that the state is stale while Redis is down, and live again after', async () => {
    const a = await node(redis().url, freshName(), { initial: {} });
    const server = await serve(a);
    const raw = await extension(server.port);
    await redis().stop();
    await raw.next((m) => m.type === 'status' && m.stale === true);
    await waitFor(() => a.errors.some((e) => /unreachable/.test(e.message)), 'the outage reported');
    await redis().restart();
    await raw.next((m) => m.type === 'status' && m.stale === false, 10000);
    assert.equal(raw.messages.filter((m) => m.type === 'status').length, 2);
  });

  it('resumes on another node with one diff, not the whole value', async () => {
    const name = freshName();
    const big: Record<string, number> = {};
    for (let i = 0; i < 200; i++) big[`k${i}`] = i;
    const a = await node(redis().url, name, { initial: big });
    const b = await node(redis().url, name);
    const sa = await serve(a);
    const sb = await serve(b);
    const first = await extension(sa.port);
    const whole = await first.next((m) => m.type === 'state');
    first.close();
    await a.state.set('k1', -1);
    await waitFor(() => b.version === a.version, 'b caught up');
    const second = await extension(sb.port, whole.version);
    const diff = await second.next((m) => m.type === 'state');
    assert.deepEqual(diff.diff, [{ op: 'replace', path: '/k1', value: -1 }]);
    assert.equal(diff.version, a.version);
  });
});
