/**
 * Views join: 100 clients (4 client processes x 25) connect at once to a
 * server whose 10 MB shared state (261 groups x 261 points) they see only
 * through a view of 3 groups (about 1% of it: ~120 KB). Measured as the
 * `join` row is (see bench/join.ts): from the first connect to the moment
 * the last client has its whole first message, and what the server
 * serialized meanwhile: messages encoded (goal: 1 per version, the view's
 * whole value shared by every joiner) and whole-state serializations
 * (goal: 0; nothing proportional to the whole state).
 *
 * The reference: a raw `ws` server holding the same 10 MB value that, on
 * the first join of a new version, serializes the same three groups once,
 * cuts them into juggler segments and sends every joiner those bytes (the
 * bytes are checked equal to ours). Between rounds one leaf inside the
 * view changes on both sides, so each round starts at a new version.
 */
import { listen, Storage } from './support/lib.js';
import { captureStateChannels, sumStats } from './support/capture.js';
import { startClients } from './support/client-driver.js';
import { BIG_SIDE, groupKey, pointKey, twoLevel } from './support/data.js';
import { JOIN_CLIENTS, joinOnce, serveRawJoin } from './join.js';
import type { Host } from './support/rpc.js';
import { Paired } from './support/stats.js';
import type { BenchContext, Benchmark, Row } from './support/table.js';

const HERE = new URL(import.meta.url);
const VIEW_GROUPS = 3;
const VIEW = Array.from({ length: VIEW_GROUPS }, (_, g) => [groupKey(g)]);

/** The leaf changed before round `i`: inside the view. */
function bumpPath(i: number): [string, string, string] {
  return [groupKey(i % VIEW_GROUPS), pointKey((i * 7) % BIG_SIDE), 'value'];
}

export async function viewsJoinOurs(host: Host): Promise<{ url: string }> {
  const channels = captureStateChannels();
  const storage = new Storage(twoLevel(BIG_SIDE, BIG_SIDE));
  const server = await listen({ host: '127.0.0.1', port: 0, state: storage, maxConnections: 10_000, view: () => VIEW });
  host.handle('bump', ({ i }: { i: number }) => storage.set(bumpPath(i), i + 0.5));
  host.handle('stats', () => sumStats(channels));
  host.handle('connections', () => [...server.connections].length);
  host.onExit(() => server.close());
  return { url: `ws://127.0.0.1:${server.port}/ws` };
}

export function viewsJoinRaw(host: Host): Promise<{ url: string }> {
  return serveRawJoin(host, bumpPath, (state) => Object.fromEntries(VIEW.map(([g]) => [g!, state[g!]!])));
}

async function run(ctx: BenchContext): Promise<Row[]> {
  // Rounds are short (tens of ms) and their spread is wide (single pairs read 0.3x to 2.2x on a
  // 2-core VM): many of them, so the median settles. With 30, runs of one build read 1.08x to 1.24x.
  const rounds = ctx.quick ? 3 : 80;
  const ours = await ctx.spawn<{ url: string }>(HERE, 'viewsJoinOurs', null, { name: 'views-join-ours' });
  const raw = await ctx.spawn<{ url: string }>(HERE, 'viewsJoinRaw', null, { name: 'views-join-raw' });
  const clients = await startClients(ctx.spawn, 4);
  const time = new Paired();
  let encoded = 0;
  let whole = 0;
  let bytes = 0;
  for (let round = 0; round < rounds + 1; round++) {
    const order = round % 2 === 0 ? (['ours', 'raw'] as const) : (['raw', 'ours'] as const);
    const result: Record<string, Awaited<ReturnType<typeof joinOnce>>> = {};
    for (const side of order) result[side] = await joinOnce(side === 'ours' ? ours : raw, clients, round);
    if (result.ours!.bytes !== result.raw!.bytes) throw new Error(`ours sent ${result.ours!.bytes} bytes, the reference ${result.raw!.bytes}`);
    bytes = result.ours!.bytes;
    ctx.log(`round ${round}: ours ${result.ours!.ms.toFixed(0)} ms (${result.ours!.encoded} encoded, ${result.ours!.encodings} whole-state), raw ${result.raw!.ms.toFixed(0)} ms`);
    if (round === 0) continue; // warm-up
    time.add(result.ours!.ms, result.raw!.ms);
    encoded = Math.max(encoded, result.ours!.encoded);
    whole = Math.max(whole, result.ours!.encodings);
  }
  const each = `${(bytes / JOIN_CLIENTS / 1e3).toFixed(0)} KB each of a 10 MB state`;
  return [
    { bench: 'views-join', metric: `${JOIN_CLIENTS} clients join a view of 1% of a 10 MB state: until all have it`, unit: 'ms', ...time.summary(), goal: { max: 1.2 }, note: each },
    { bench: 'views-join', metric: `messages serialized per version (${JOIN_CLIENTS} joiners of one view)`, unit: '', ours: encoded, ref: 1, ratio: encoded, goal: { max: 1 } },
    { bench: 'views-join', metric: 'whole-state serializations (nothing proportional to the whole state)', unit: '', ours: whole, ref: 0, ratio: whole, goal: { max: 0 } },
  ];
}

export const viewsJoin: Benchmark = { name: 'views-join', run };
