/**
 * Join: 100 clients (4 client processes × 25) connect at once to a 10 MB
 * shared state, all at the same version. Measured: from the first connect
 * to the moment the last client has received its whole first message (the
 * whole value as one `replace` at ""; clients count bytes, they do not
 * parse 10 MB each), and how many times the server serialized the whole
 * value (StateChannel `stats.wholeValueEncodings`; expected 1 per version).
 *
 * The reference: a raw `ws` server holding the same value, written as a
 * user would by hand: on the first join of a new version it serializes the
 * whole value once, cuts it into the same juggler segments and keeps them
 * as Buffers; every joiner gets those same bytes. Between rounds one leaf
 * changes on both sides, so each round starts at a new version.
 */
import { WebSocketServer } from 'ws';
import type { JsonValue } from './support/lib.js';
import { listen, Storage } from './support/lib.js';
import { captureStateChannels, sumStats } from './support/capture.js';
import { split, startClients } from './support/client-driver.js';
import { BIG_SIDE, groupKey, pointKey, twoLevel } from './support/data.js';
import type { Host, Worker } from './support/rpc.js';
import { Paired, sleep } from './support/stats.js';
import type { BenchContext, Benchmark, Row } from './support/table.js';

const HERE = new URL(import.meta.url);
export const JOIN_CLIENTS = 100;
const CLIENTS = JOIN_CLIENTS;
const SEGMENT = 65536;

type JsonObject = { [key: string]: JsonValue };

/** The leaf changed before round `i`. */
export function bumpPath(i: number): [string, string, string] {
  return [groupKey(i % BIG_SIDE), pointKey((i * 7) % BIG_SIDE), 'value'];
}

export async function joinOurs(host: Host): Promise<{ url: string }> {
  const channels = captureStateChannels();
  const storage = new Storage(twoLevel(BIG_SIDE, BIG_SIDE));
  const server = await listen({ host: '127.0.0.1', port: 0, state: storage, maxConnections: 10_000 });
  host.handle('bump', ({ i }: { i: number }) => storage.set(bumpPath(i), i + 0.5));
  host.handle('stats', () => sumStats(channels));
  host.handle('connections', () => [...server.connections].length);
  host.onExit(() => server.close());
  return { url: `ws://127.0.0.1:${server.port}/ws` };
}

/** A message's text cut into juggler segments, as bytes. */
export function segments(text: string): Buffer[] {
  const frames: Buffer[] = [];
  for (let pos = 0; pos < text.length; pos += SEGMENT) frames.push(Buffer.from((pos + SEGMENT >= text.length ? '0' : '1') + text.slice(pos, pos + SEGMENT)));
  return frames;
}

export function joinRaw(host: Host): Promise<{ url: string }> {
  return serveRawJoin(host, bumpPath, (state) => state);
}

/**
 * The raw reference server of a join: holds the 10 MB value; on the first join of a version it
 * serializes `sent(value)` once as one message cut into juggler segments, and every joiner gets
 * those bytes. `bump` changes the leaf `leaf(i)` (a new version).
 */
export async function serveRawJoin(host: Host, leaf: (i: number) => [string, string, string], sent: (state: JsonObject) => JsonValue): Promise<{ url: string }> {
  const state = twoLevel(BIG_SIDE, BIG_SIDE);
  let version = 0;
  let cache: { version: number; frames: Buffer[] } | null = null;
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => wss.once('listening', resolve));
  wss.on('connection', (ws) => {
    ws.on('error', () => {});
    if (cache === null || cache.version !== version) {
      // Once per version: the value as one message, cut into juggler segments.
      cache = { version, frames: segments(JSON.stringify({ type: 'state', diff: [{ op: 'replace', path: '', value: sent(state) }] })) };
    }
    for (const frame of cache.frames) ws.send(frame, { binary: false });
  });
  host.handle('bump', ({ i }: { i: number }) => {
    const [g, p, key] = leaf(i);
    ((state[g] as JsonObject)[p] as JsonObject)[key] = i + 0.5;
    version += 1;
  });
  host.handle('stats', () => ({ wholeValueEncodings: version, messagesEncoded: version }));
  host.handle('connections', () => wss.clients.size);
  host.onExit(() => new Promise((resolve) => wss.close(resolve)));
  return { url: `ws://127.0.0.1:${(wss.address() as { port: number }).port}/` };
}

/**
 * One round: bump a leaf (a new version), join CLIENTS clients at once, wait until each has its first
 * message, close them. `encodings`: whole-value serializations meanwhile; `encoded`: messages encoded.
 */
export async function joinOnce(
  server: Worker<{ url: string }>,
  clients: Worker[],
  i: number,
): Promise<{ ms: number; bytes: number; encodings: number; encoded: number }> {
  await server.call('bump', { i });
  const before = await server.call<{ wholeValueEncodings: number; messagesEncoded?: number }>('stats');
  const counts = split(CLIENTS, clients.length);
  const results = await Promise.all(
    clients.map((c, k) => c.call<{ started: number; last: number; bytes: number }>('join', { tag: 'join', url: server.info.url, count: counts[k], timeout: 120_000 }, 150_000)),
  );
  const after = await server.call<{ wholeValueEncodings: number; messagesEncoded?: number }>('stats');
  await Promise.all(clients.map((c) => c.call('close', { tag: 'join' })));
  for (let t = 0; (await server.call<number>('connections')) > 0; t++) {
    if (t > 500) throw new Error('clients did not disconnect');
    await sleep(10);
  }
  const started = Math.min(...results.map((r) => r.started));
  const last = Math.max(...results.map((r) => r.last));
  return {
    ms: last - started,
    bytes: results.reduce((a, r) => a + r.bytes, 0),
    encodings: after.wholeValueEncodings - before.wholeValueEncodings,
    encoded: (after.messagesEncoded ?? 0) - (before.messagesEncoded ?? 0),
  };
}

async function run(ctx: BenchContext): Promise<Row[]> {
  const rounds = ctx.quick ? 2 : 5;
  const ours = await ctx.spawn<{ url: string }>(HERE, 'joinOurs', null, { name: 'join-ours' });
  const raw = await ctx.spawn<{ url: string }>(HERE, 'joinRaw', null, { name: 'join-raw' });
  const clients = await startClients(ctx.spawn, 4);
  const time = new Paired();
  const encodings: number[] = [];
  let bytes = 0;
  for (let round = 0; round < rounds + 1; round++) {
    const order = round % 2 === 0 ? (['ours', 'raw'] as const) : (['raw', 'ours'] as const);
    const result: Record<string, { ms: number; bytes: number; encodings: number }> = {};
    for (const side of order) result[side] = await joinOnce(side === 'ours' ? ours : raw, clients, round);
    if (result.ours!.bytes !== result.raw!.bytes) throw new Error(`ours sent ${result.ours!.bytes} bytes, the reference ${result.raw!.bytes}`);
    bytes = result.ours!.bytes;
    ctx.log(`round ${round}: ours ${result.ours!.ms.toFixed(0)} ms (${result.ours!.encodings} whole-value encodings), raw ${result.raw!.ms.toFixed(0)} ms`);
    if (round === 0) continue; // warm-up
    time.add(result.ours!.ms, result.raw!.ms);
    encodings.push(result.ours!.encodings);
  }
  const maxEncodings = Math.max(...encodings);
  return [
    { bench: 'join', metric: `${CLIENTS} clients join a 10 MB state: until all have it`, unit: 'ms', ...time.summary(), goal: { max: 1.2 }, note: `${(bytes / CLIENTS / 1e6).toFixed(1)} MB each` },
    { bench: 'join', metric: `whole-value serializations per version (${CLIENTS} joiners)`, unit: '', ours: maxEncodings, ref: 1, ratio: maxEncodings, goal: { max: 1 } },
  ];
}

export const join: Benchmark = { name: 'join', run };
