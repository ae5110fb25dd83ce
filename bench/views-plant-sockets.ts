/**
 * Views plant over real sockets: the `views-plant` load (10,000 points in
 * 100 sites, 2,000 updates a second, autoflush 200 ms) on a real server of
 * ours, `listen({ state, view })` on 127.0.0.1, with 1,000 clients each
 * viewing one site (the site named in the URL's query: 10 clients per
 * site, 100 distinct views), against the same server with no views (the
 * same 1,000 clients see everything). Measured: the server process's CPU
 * per second, in windows that alternate between the two servers after a
 * warm-up of each; and the bytes the clients received.
 *
 * The side without views writes ~35 KB per flush to each of 1,000 sockets
 * (~170 MiB/s), so the clients must be cheap: raw `ws` sockets in two
 * processes that count bytes and never parse (no UTF-8 check either). A
 * side whose clients fell behind does not count: the bytes the server
 * handed to its sockets during a window (counted in the server process
 * around `WebSocket#send`) must all have arrived within 2 s after the
 * window, and no connection may have been congested (held back) at any
 * sample; otherwise the run fails.
 */
import WebSocket from 'ws';
import { pace } from './plant-dashboard.js';
import { split, startClients } from './support/client-driver.js';
import { listen, Storage } from './support/lib.js';
import type { Host, Worker } from './support/rpc.js';
import { now, Paired, prng, sleep } from './support/stats.js';
import type { BenchContext, Benchmark, Row } from './support/table.js';
import { CLIENTS, FLUSH, initialValue, plantUpdate, siteKey, SITES } from './views-plant.js';

const HERE = new URL(import.meta.url);
const SEED = 13;
// How long the clients may take, after a window, to have every byte the server handed over.
const CATCH_UP_MS = 2000;

const H_PING = 0x32; // '2'
const H_PONG = 0x33; // '3'

/** Bytes handed to `WebSocket#send` in this process, pings and pongs aside (what the clients count). */
function countSentBytes(): { bytes: number } {
  const counter = { bytes: 0 };
  const original = WebSocket.prototype.send;
  WebSocket.prototype.send = function (this: WebSocket, data: unknown, ...rest: unknown[]) {
    if (typeof data === 'string') {
      const head = data.charCodeAt(0);
      if (head !== H_PING && head !== H_PONG) counter.bytes += Buffer.byteLength(data);
    } else if (data instanceof Uint8Array && data[0] !== H_PING && data[0] !== H_PONG) counter.bytes += data.byteLength;
    return (original as (...args: unknown[]) => void).call(this, data, ...rest);
  } as typeof original;
  return counter;
}

/** The site a client asked for in its URL (`?site=s07`). */
function siteOf(url: string): string {
  const site = new URL(url, 'http://localhost').searchParams.get('site');
  if (site === null) throw new Error(`no site in ${url}`);
  return site;
}

/** A server of ours with the plant's state; with `views`, each connection sees the site its URL names. */
export async function viewsPlantServer(host: Host, args: { views: boolean }): Promise<{ url: string }> {
  const sent = countSentBytes();
  const storage = new Storage(initialValue());
  let errors = 0;
  const server = await listen({
    host: '127.0.0.1',
    port: 0,
    state: storage,
    autoflushDelay: FLUSH,
    maxConnections: 10_000,
    onError: () => void (errors += 1),
    view: args.views ? (conn) => [['sites', siteOf(conn.request.url)]] : null,
  });
  const random = prng(SEED);
  let k = 0;
  let running: { stop(): void } | null = null;
  // Samples of congestion while the application runs: a held-back connection means a client fell behind.
  let heldBack = 0;
  let sampler: NodeJS.Timeout | null = null;
  host.handle('start', () => {
    running = pace(() => {
      const u = plantUpdate(random, k++);
      storage.set(['sites', u.site, u.point], u.value);
    });
    sampler = setInterval(() => {
      // `congested` is internal (what the fan-out asks); the bench reads it as the metrics do.
      for (const conn of server.connections) if ((conn as unknown as { congested: boolean }).congested) heldBack += 1;
    }, 100);
  });
  host.handle('stop', () => {
    running?.stop();
    running = null;
    if (sampler !== null) clearInterval(sampler);
    sampler = null;
  });
  host.handle('sent', () => sent.bytes);
  host.handle('heldBack', () => heldBack);
  host.handle('errors', () => errors);
  host.onExit(() => server.close());
  return { url: `ws://127.0.0.1:${server.port}/ws` };
}

interface Sample {
  cpuMsPerS: number;
  kiBPerS: number;
  /** Bytes the server had handed over but the clients not yet received at the window's end, in flushes' worth. */
  lagFlushes: number;
}

async function received(clients: Worker[], tag: string): Promise<number> {
  const counts = await Promise.all(clients.map((c) => c.call<{ bytes: number }>('counts', { tag })));
  return counts.reduce((a, c) => a + c.bytes, 0);
}

/** One window of `ms` on `server`: its CPU, and a check that its clients received every byte it sent. */
async function measure(server: Worker, clients: Worker[], tag: string, ms: number): Promise<Sample> {
  await server.call('start');
  await sleep(500);
  const [cpu0, sent0] = await Promise.all([server.call<{ cpuMicros: number; t: number }>('cpu'), server.call<number>('sent')]);
  await sleep(ms);
  const [cpu1, sent1, got1] = await Promise.all([server.call<{ cpuMicros: number; t: number }>('cpu'), server.call<number>('sent'), received(clients, tag)]);
  await server.call('stop');
  const seconds = (cpu1.t - cpu0.t) / 1000;
  const perFlush = ((sent1 - sent0) / seconds) * (FLUSH / 1000);
  // Every byte handed over must arrive soon after: clients that fall behind would make the side look cheaper.
  await sleep(2 * FLUSH); // the last flush goes out
  const sent = await server.call<number>('sent');
  const deadline = now() + CATCH_UP_MS;
  let got = await received(clients, tag);
  while (got < sent && now() < deadline) {
    await sleep(20);
    got = await received(clients, tag);
  }
  if (got !== sent) throw new Error(`${server.name}: clients received ${got} of ${sent} bytes ${CATCH_UP_MS} ms after the window: they fell behind`);
  return { cpuMsPerS: (cpu1.cpuMicros - cpu0.cpuMicros) / 1000 / seconds, kiBPerS: (sent1 - sent0) / 1024 / seconds, lagFlushes: (sent1 - got1) / perFlush };
}

async function run(ctx: BenchContext): Promise<Row[]> {
  const rounds = ctx.quick ? 3 : 8;
  const windowMs = ctx.quick ? 2500 : 5000;
  const warmMs = ctx.quick ? 5000 : 15_000;
  const viewed = await ctx.spawn<{ url: string }>(HERE, 'viewsPlantServer', { views: true }, { name: 'views-plant-views' });
  const everyone = await ctx.spawn<{ url: string }>(HERE, 'viewsPlantServer', { views: false }, { name: 'views-plant-all' });
  const clients = await startClients(ctx.spawn, 2);
  // Each client process holds CLIENTS / 2 sockets per server, the same number per site.
  const perSite = split(CLIENTS / SITES, clients.length);
  for (const [tag, server] of [['views', viewed], ['all', everyone]] as const) {
    await Promise.all(
      clients.map(async (c, i) => {
        for (let s = 0; s < SITES; s++) {
          await c.call('open', { tag, url: `${server.info.url}?site=${siteKey(s)}`, count: perSite[i], skipUTF8Validation: true }, 60_000);
        }
      }),
    );
    await Promise.all(clients.map((c) => c.call('waitAll', { tag, atLeast: 1 })));
  }
  const cpu = new Paired();
  const bytes = new Paired();
  let maxLag = 0;
  // Warm-up, not measured (see plant-dashboard: a server's first seconds measure the JIT).
  await measure(viewed, clients, 'views', warmMs);
  await measure(everyone, clients, 'all', warmMs);
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? (['views', 'all'] as const) : (['all', 'views'] as const);
    const result: Partial<Record<'views' | 'all', Sample>> = {};
    for (const side of order) result[side] = await measure(side === 'views' ? viewed : everyone, clients, side, windowMs);
    const v = result.views!;
    const a = result.all!;
    cpu.add(v.cpuMsPerS, a.cpuMsPerS);
    bytes.add(v.kiBPerS, a.kiBPerS);
    maxLag = Math.max(maxLag, v.lagFlushes, a.lagFlushes);
    ctx.log(
      `round ${round + 1}: views ${v.cpuMsPerS.toFixed(1)} ms CPU/s ${v.kiBPerS.toFixed(0)} KiB/s (lag ${v.lagFlushes.toFixed(2)} flushes), ` +
        `no views ${a.cpuMsPerS.toFixed(1)} ms CPU/s ${a.kiBPerS.toFixed(0)} KiB/s (lag ${a.lagFlushes.toFixed(2)} flushes)`,
    );
  }
  for (const server of [viewed, everyone]) {
    const [held, errors] = await Promise.all([server.call<number>('heldBack'), server.call<number>('errors')]);
    if (held > 0) throw new Error(`${server.name}: ${held} samples found a connection held back: its clients fell behind`);
    if (errors > 0) throw new Error(`${server.name}: the server reported ${errors} errors`);
  }
  for (const tag of ['views', 'all']) await Promise.all(clients.map((c) => c.call('close', { tag })));
  const caughtUp = `every byte received; at most ${maxLag.toFixed(1)} flushes in transit at a window's end, none held back`;
  return [
    { bench: 'views-plant-sockets', metric: `server CPU over ws, ${CLIENTS} clients in ${SITES} site views vs the same server with no views`, unit: 'ms/s', ...cpu.summary(), goal: { max: 1 }, note: caughtUp },
    { bench: 'views-plant-sockets', metric: 'bytes sent to the clients, views vs no views', unit: 'KiB/s', ...bytes.summary(), goal: null },
  ];
}

/** The real-socket row (see the top of this file). */
export const viewsPlantSockets: Benchmark = { name: 'views-plant-sockets', run };
