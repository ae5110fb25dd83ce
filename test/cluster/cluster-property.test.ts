/**
 * Concurrent writers on three nodes as a property (docs/cluster.md, "How
 * it works"): random writes, on overlapping paths of objects and arrays,
 * made at once on three nodes of one real redis-server. Whatever order the
 * log took, every node and every client (ours on the extension, a plain
 * one) ends equal to a single-process replay of that log: the stream read
 * back with XRANGE, each entry's writes applied in order to a fresh Storage.
 */
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import fastJsonPatch from 'fast-json-patch';
import { connect } from '../../src/client/index.js';
import { redisCluster, type RedisCluster } from '../../src/cluster/index.js';
import { listen, Storage, type JsonValue, type Server } from '../../src/index.js';
import { RawClient } from '../support/raw-client.js';
import { useRedis } from '../support/redis-server.js';
import { waitFor } from '../support/wait.js';
import { jsonValue } from '../state/support/markers.js';
import { FAST, freshName, SECRET } from './cluster-helpers.js';
import { rawClient } from './store-helpers.js';

const INITIAL = { a: [1, 2], b: { a: 0 } };
const key = fc.constantFrom('a', 'b');
const path = fc.array(fc.oneof(key, fc.constantFrom(0, 1)), { minLength: 1, maxLength: 3 });
const op = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), path, value: jsonValue(key) }),
  fc.record({ kind: fc.constant('remove' as const), path }),
);
type Op = { kind: 'set'; path: (string | number)[]; value: JsonValue } | { kind: 'remove'; path: (string | number)[] };

/** Applies one write as the log applies it: a write that cannot apply is skipped alone. */
function applyOp(state: Storage, o: Op): Promise<void> | void {
  try {
    return o.kind === 'set' ? state.set(o.path, o.value) : state.remove(o.path);
  } catch (err) {
    if ((err as Error).name !== 'InvalidArgumentError') throw err;
  }
}

/** The value a single process gets by applying the log's entries in order. */
async function replay(url: string, name: string): Promise<JsonValue> {
  const raw = await rawClient(url);
  const storage = new Storage(INITIAL);
  for (const entry of await raw.xRange(`koa-juggler:${name}:log`, '-', '+')) {
    const body = JSON.parse(entry.message.b!) as { w?: [string, (string | number)[], JsonValue?][] };
    for (const [kind, at, value] of body.w ?? []) applyOp(storage, kind === 's' ? { kind: 'set', path: at, value: value! } : { kind: 'remove', path: at });
  }
  return storage.data;
}

describe('concurrent writers on three nodes (property, real redis-server)', function () {
  this.timeout(90_000);
  const redis = useRedis();

  it('every node and every client ends equal to a single-process replay of the log', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(fc.array(op, { maxLength: 3 }), { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 4 }), async (rounds) => {
        const name = freshName();
        const nodes: RedisCluster[] = [];
        const servers: Server[] = [];
        try {
          for (let i = 0; i < 3; i++) nodes.push(await redisCluster({ url: redis().url, name, ...FAST, initial: INITIAL, onError: () => {} }));
          for (const cluster of nodes) servers.push(await listen({ cluster, sessionSecret: SECRET, autoflushDelay: 0, onError: () => {} }));
          const ours = await Promise.all(servers.map((s) => connect(`ws://127.0.0.1:${s.port}/ws`)));
          const plain = await RawClient.connect(`ws://127.0.0.1:${servers[2]!.port}/ws`);
          try {
            for (const round of rounds) {
              // Each node's writes of the round in one synchronous run, the three nodes at once.
              const pending = round.flatMap((ops, i) => ops.map((o) => applyOp(nodes[i]!.state, o as Op)));
              await Promise.allSettled(pending);
            }
            const expected = await replay(redis().url, name);
            await waitFor(() => nodes.every((n) => n.version === nodes[0]!.version), 'the nodes to agree on a version');
            for (const n of nodes) assert.deepEqual(n.state.data, expected);
            // By value: an entry whose writes all failed advances the nodes' version but sends nothing.
            const same = (value: JsonValue): boolean => isDeepStrictEqual(value, expected);
            await waitFor(() => ours.every((c) => same(c.state)), 'our clients to catch up');
            for (const c of ours) assert.deepEqual(c.state, expected);
            const plainValue = (): JsonValue =>
              plain.messages.filter((m) => m.type === 'state').reduce((v, m) => fastJsonPatch.applyPatch(v, m.diff, false, false).newDocument, null as JsonValue);
            await waitFor(() => same(plainValue()), 'the plain client to catch up');
          } finally {
            for (const c of ours) c.close();
            plain.close();
          }
        } finally {
          for (const s of servers) await s.close();
          for (const n of nodes) await n.close();
        }
      }),
      { numRuns: 15 },
    );
  });
});
