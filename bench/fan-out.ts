/**
 * Fan-out: one shared Storage, 1000 and then 5000 connected clients (spread
 * over 4 client processes), one leaf changed per flush. Measured in the
 * server process, from the `storage.set()` + `conn.flush()` call to the
 * moment the last socket write callback fired.
 *
 * The reference sends the same patch bytes over the very same sockets with
 * raw `ws`, as a user would by hand: build the message, encode it to a
 * Buffer once, `ws.send()` it to every socket. Ours and the reference
 * alternate round by round; the clients confirm every round arrived
 * everywhere before the next (that time is reported too, as information).
 */
import { listen, Storage, type Connection } from './support/lib.js';
import { captureSockets, captureStateChannels, sumStats, trackWrites } from './support/capture.js';
import { split, startClients } from './support/client-driver.js';
import { flat, pointKey } from './support/data.js';
import type { Host, Worker } from './support/rpc.js';
import { now, Paired, sleep } from './support/stats.js';
import type { BenchContext, Benchmark, Row } from './support/table.js';

const HERE = new URL(import.meta.url);
const POINTS = 100;

interface RoundResult {
  t0: number;
  /** When the synchronous part returned: every ws.send() called. */
  sent: number;
  /** Last write callback, monotonic ms. */
  written: number;
}

/** The server process: our server with a shared state, plus the raw reference on the same sockets. */
export async function fanOutServer(host: Host, args: { metrics?: boolean } | null): Promise<{ url: string }> {
  const sockets = captureSockets();
  const channels = captureStateChannels();
  const writes = trackWrites();
  const storage = new Storage({ points: flat(POINTS) });
  // The keepalive is irrelevant here and its pings would only add writes to the rounds.
  const server = await listen({ host: '127.0.0.1', port: 0, state: storage, autoflushDelay: null, pingDelay: 600_000, metrics: args?.metrics ?? false });
  host.onExit(() => server.close());

  const change = (i: number): { key: string; value: number } => ({ key: pointKey(i % POINTS), value: i + 0.5 });

  // Ours: the application changes one leaf and flushes; the server does the rest.
  host.handle('ours', async ({ i }: { i: number }): Promise<RoundResult> => {
    const conn = server.connections[Symbol.iterator]().next().value as Connection;
    const done = writes.arm(sockets.length);
    const { key, value } = change(i);
    const t0 = now();
    storage.set(['points', key, 'value'], value);
    void conn.flush();
    const sent = now();
    return { t0, sent, written: await done };
  });

  // The reference, by hand: the same patch, encoded once, sent to every socket.
  host.handle('raw', async ({ i }: { i: number }): Promise<RoundResult> => {
    const done = writes.arm(sockets.length);
    const { key, value } = change(i);
    const t0 = now();
    const message = { type: 'state', diff: [{ op: 'replace', path: `/points/${key}/value`, value }] };
    const bytes = Buffer.from('0' + JSON.stringify(message));
    for (const ws of sockets) ws.send(bytes, { binary: false });
    const sent = now();
    return { t0, sent, written: await done };
  });

  host.handle('connections', () => ({ sockets: sockets.length, connections: [...server.connections].length }));
  host.handle('stats', () => sumStats(channels));
  return { url: `ws://127.0.0.1:${server.port}/ws` };
}

async function measureSize(ctx: BenchContext, server: Worker, clients: Worker[], sockets: number, firstRound: number, bench: string): Promise<{ rows: Row[]; rounds: number }> {
  const rounds = ctx.quick ? 5 : 60;
  const written = new Paired();
  const sent = new Paired();
  const received = new Paired();
  const counts = await Promise.all(clients.map((c) => c.call<{ min: number }>('counts', { tag: 'fan' })));
  let expected = Math.min(...counts.map((c) => c.min));
  const texts: Record<string, string | null> = {};
  let i = firstRound;
  const stats0 = await server.call<{ flushes: number; diffsComputed: number; messagesEncoded: number }>('stats');
  const once = async (side: 'ours' | 'raw'): Promise<{ sent: number; written: number; received: number }> => {
    const result = await server.call<RoundResult>(side, { i }, 60_000);
    expected += 1;
    const arrivals = await Promise.all(clients.map((c) => c.call<{ lastRx: number; lastText: string | null }>('waitAll', { tag: 'fan', atLeast: expected })));
    texts[side] = arrivals[0]!.lastText;
    await sleep(20);
    return { sent: result.sent - result.t0, written: result.written - result.t0, received: Math.max(...arrivals.map((a) => a.lastRx)) - result.t0 };
  };
  for (let round = 0; round < 2 + rounds; round++) {
    const first = round % 2 === 0 ? 'ours' : 'raw';
    const second = first === 'ours' ? 'raw' : 'ours';
    const a = await once(first);
    const b = await once(second);
    i += 1;
    if (texts.ours !== texts.raw) throw new Error(`ours and the reference sent different bytes: ${texts.ours} vs ${texts.raw}`);
    if (round < 2) continue; // warm-up
    const ours = first === 'ours' ? a : b;
    const raw = first === 'ours' ? b : a;
    written.add(ours.written, raw.written);
    sent.add(ours.sent, raw.sent);
    received.add(ours.received, raw.received);
    ctx.log(
      `${sockets} clients: ours ${ours.written.toFixed(2)} ms (sync ${ours.sent.toFixed(2)}, received ${ours.received.toFixed(2)}), ` +
        `raw ${raw.written.toFixed(2)} ms (sync ${raw.sent.toFixed(2)}, received ${raw.received.toFixed(2)})`,
    );
  }
  const stats1 = await server.call<{ flushes: number; diffsComputed: number; messagesEncoded: number }>('stats');
  const flushes = stats1.flushes - stats0.flushes;
  const perFlush = `${((stats1.diffsComputed - stats0.diffsComputed) / flushes).toFixed(2)} diff, ${((stats1.messagesEncoded - stats0.messagesEncoded) / flushes).toFixed(2)} encoding per flush`;
  return {
    rounds: i - firstRound,
    rows: [
      { bench, metric: `${sockets} clients: flush → last write callback`, unit: 'ms', ...written.summary(), goal: { max: 1.15 }, note: perFlush },
      { bench, metric: `${sockets} clients: synchronous part (until every ws.send() returned)`, unit: 'ms', ...sent.summary(), goal: null },
      { bench, metric: `${sockets} clients: flush → received by all clients`, unit: 'ms', ...received.summary(), goal: null },
    ],
  };
}

async function run(ctx: BenchContext, metrics = false): Promise<Row[]> {
  const bench = metrics ? 'fan-out-metrics' : 'fan-out';
  const server = await ctx.spawn<{ url: string }>(HERE, 'fanOutServer', { metrics }, { name: `${bench}-server` });
  const clients = await startClients(ctx.spawn, 4);
  const rows: Row[] = [];
  let connected = 0;
  let round = 0;
  for (const size of [1000, 5000]) {
    const add = split(size - connected, clients.length);
    // keepLast: the first socket of each process keeps its last message, to compare ours and the reference byte for byte.
    await Promise.all(clients.map((c, k) => c.call('open', { tag: 'fan', url: server.info.url, count: add[k], keepLast: connected === 0 ? 1 : 0 }, 120_000)));
    connected = size;
    const seen = await server.call<{ sockets: number; connections: number }>('connections');
    if (seen.sockets !== size || seen.connections !== size) throw new Error(`expected ${size} connections, server has ${JSON.stringify(seen)}`);
    // Every client has the initial whole state before the rounds start.
    await Promise.all(clients.map((c) => c.call('waitAll', { tag: 'fan', atLeast: 1 })));
    const result = await measureSize(ctx, server, clients, size, round, bench);
    round += result.rounds;
    rows.push(...result.rows);
  }
  await Promise.all(clients.map((c) => c.call('close', { tag: 'fan' }, 60_000)));
  return rows;
}

export const fanOut: Benchmark = { name: 'fan-out', run: (ctx) => run(ctx) };
/** The same with `metrics: true` on our server: the counters must cost nothing measurable (same goal). */
export const fanOutMetrics: Benchmark = { name: 'fan-out-metrics', run: (ctx) => run(ctx, true) };
