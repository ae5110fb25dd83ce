/**
 * Memory: resident memory per idle connection with 5000 connections (2000
 * with --quick). Each round starts a fresh server process (with
 * --expose-gc), takes its RSS after a full GC, connects the clients from 4
 * client processes, lets them sit idle for a second, takes RSS after a full
 * GC again: (after - before) / connections. Ours runs `listen()` with its
 * defaults (so each connection has its own Storage and StateChannel); the
 * reference is a raw `ws` server with a message listener per socket, as a
 * user would write it. Rounds alternate ours / reference.
 */
import { WebSocketServer } from 'ws';
import { listen } from './support/lib.js';
import { split, startClients } from './support/client-driver.js';
import type { Host, Worker } from './support/rpc.js';
import { Paired, sleep } from './support/stats.js';
import type { BenchContext, Benchmark, Row } from './support/table.js';

const HERE = new URL(import.meta.url);

export async function memoryOurs(host: Host): Promise<{ url: string }> {
  const server = await listen({ host: '127.0.0.1', port: 0, onRequest: (_conn, _name, data) => data });
  host.handle('connections', () => [...server.connections].length);
  host.onExit(() => server.close());
  return { url: `ws://127.0.0.1:${server.port}/ws` };
}

export async function memoryRaw(host: Host): Promise<{ url: string }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => wss.once('listening', resolve));
  wss.on('connection', (ws) => {
    ws.on('message', (data) => {
      const text = data.toString();
      if (text[0] !== '0') return;
      const request = JSON.parse(text.slice(1));
      ws.send('0' + JSON.stringify({ type: 'response', id: request.id, success: true, data: request.data }));
    });
  });
  host.handle('connections', () => wss.clients.size);
  host.onExit(() => new Promise((resolve) => wss.close(resolve)));
  return { url: `ws://127.0.0.1:${(wss.address() as { port: number }).port}/` };
}

async function perConnection(ctx: BenchContext, side: 'ours' | 'raw', clients: Worker[], count: number): Promise<{ rss: number; heap: number }> {
  const server = await ctx.spawn<{ url: string }>(HERE, side === 'ours' ? 'memoryOurs' : 'memoryRaw', null, { name: `memory-${side}`, nodeFlags: ['--expose-gc'] });
  try {
    await sleep(500);
    const before = await server.call<NodeJS.MemoryUsage>('mem', { gc: true });
    const counts = split(count, clients.length);
    await Promise.all(clients.map((c, k) => c.call('open', { tag: side, url: server.info.url, count: counts[k] }, 120_000)));
    const seen = await server.call<number>('connections');
    if (seen !== count) throw new Error(`${side}: expected ${count} connections, the server has ${seen}`);
    await sleep(1000);
    const after = await server.call<NodeJS.MemoryUsage>('mem', { gc: true });
    await Promise.all(clients.map((c) => c.call('close', { tag: side }, 60_000)));
    return { rss: (after.rss - before.rss) / count / 1024, heap: (after.heapUsed - before.heapUsed) / count / 1024 };
  } finally {
    await server.stop();
  }
}

async function run(ctx: BenchContext): Promise<Row[]> {
  const count = ctx.quick ? 2000 : 5000;
  const rounds = ctx.quick ? 1 : 2;
  const clients = await startClients(ctx.spawn, 4);
  const rss = new Paired();
  const heap = new Paired();
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? (['ours', 'raw'] as const) : (['raw', 'ours'] as const);
    const result: Record<string, { rss: number; heap: number }> = {};
    for (const side of order) result[side] = await perConnection(ctx, side, clients, count);
    rss.add(result.ours!.rss, result.raw!.rss);
    heap.add(result.ours!.heap, result.raw!.heap);
    ctx.log(`round ${round + 1}: ours ${result.ours!.rss.toFixed(1)} KiB RSS (${result.ours!.heap.toFixed(1)} heap), raw ${result.raw!.rss.toFixed(1)} KiB RSS (${result.raw!.heap.toFixed(1)} heap)`);
  }
  return [
    { bench: 'memory', metric: `RSS per idle connection (${count} connections)`, unit: 'KiB', ...rss.summary(), goal: { max: 2 } },
    { bench: 'memory', metric: `JS heap per idle connection (${count} connections)`, unit: 'KiB', ...heap.summary(), goal: null },
  ];
}

export const memory: Benchmark = { name: 'memory', run };
