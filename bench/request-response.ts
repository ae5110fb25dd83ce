/**
 * Request/response: our server answering `echo` requests vs a raw `ws`
 * echo server of the same message shapes (juggler framing '0' + JSON,
 * JSON.parse + JSON.stringify), written as a user would write it by hand.
 *
 * Three loads from a separate client process: 1 client sequential, 1 client
 * with 100 requests in flight, 50 clients with 20 in flight each. Each
 * server runs in its own process; both stay up, and the load alternates
 * between them in rounds. Per window: round trips per second (counted by
 * the clients) and the server process's CPU time per round trip.
 */
import { WebSocketServer } from 'ws';
import { listen } from './support/lib.js';
import { startClients } from './support/client-driver.js';
import type { Host, Worker } from './support/rpc.js';
import { Paired, sleep } from './support/stats.js';
import type { BenchContext, Benchmark, Row } from './support/table.js';

const HERE = new URL(import.meta.url);

// ---- the two servers -------------------------------------------------------

/** Ours: `listen()` with an echo handler, all other options at their defaults (but `metrics` for the metrics-on rows). */
export async function oursServer(host: Host, args: { metrics?: boolean } | null): Promise<{ url: string }> {
  let errors = 0;
  const server = await listen({
    host: '127.0.0.1',
    port: 0,
    metrics: args?.metrics ?? false,
    onRequest: (_conn, _name, data) => data,
    onError: () => void (errors += 1),
  });
  host.handle('errors', () => errors);
  host.onExit(() => server.close());
  return { url: `ws://127.0.0.1:${server.port}/ws` };
}

/** The reference: raw ws, the juggler request/response shapes done by hand. */
export async function rawServer(host: Host): Promise<{ url: string }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => wss.once('listening', resolve));
  wss.on('connection', (ws) => {
    ws.on('message', (data) => {
      const text = data.toString();
      if (text[0] !== '0') return; // pongs and the like
      const request = JSON.parse(text.slice(1));
      ws.send('0' + JSON.stringify({ type: 'response', id: request.id, success: true, data: request.data }));
    });
  });
  host.handle('errors', () => 0);
  host.onExit(() => new Promise((resolve) => wss.close(resolve)));
  const address = wss.address() as { port: number };
  return { url: `ws://127.0.0.1:${address.port}/` };
}

// ---- orchestration ---------------------------------------------------------

interface Scenario {
  label: string;
  sockets: number;
  inFlight: number;
}

const SCENARIOS: Scenario[] = [
  { label: '1 client sequential', sockets: 1, inFlight: 1 },
  { label: '1 client × 100 in flight', sockets: 1, inFlight: 100 },
  { label: '50 clients × 20 in flight', sockets: 50, inFlight: 20 },
];

interface Window {
  throughput: number;
  cpuPerRt: number;
}

async function measure(server: Worker, clients: Worker, tag: string, inFlight: number, ms: number): Promise<Window> {
  await clients.call('loadStart', { tag, inFlight });
  await sleep(Math.min(200, ms / 4)); // let the load settle
  const [c0, cpu0] = await Promise.all([clients.call<{ count: number; t: number }>('loadCount', { tag }), server.call<{ cpuMicros: number }>('cpu')]);
  await sleep(ms);
  const [c1, cpu1] = await Promise.all([clients.call<{ count: number; t: number }>('loadCount', { tag }), server.call<{ cpuMicros: number }>('cpu')]);
  await clients.call('loadStop', { tag });
  const trips = c1.count - c0.count;
  return { throughput: trips / ((c1.t - c0.t) / 1000), cpuPerRt: (cpu1.cpuMicros - cpu0.cpuMicros) / trips };
}

async function run(ctx: BenchContext): Promise<Row[]> {
  // Many short windows rather than a few long ones: a pair taken close together shares the machine's mood.
  const window = ctx.quick ? 400 : 1000;
  const rounds = ctx.quick ? 3 : 16;
  const ours = await ctx.spawn<{ url: string }>(HERE, 'oursServer', null, { name: 'rr-ours' });
  // The same server with `metrics: true`: its counters must cost nothing measurable.
  const oursMetrics = await ctx.spawn<{ url: string }>(HERE, 'oursServer', { metrics: true }, { name: 'rr-ours-metrics' });
  const raw = await ctx.spawn<{ url: string }>(HERE, 'rawServer', null, { name: 'rr-raw' });
  const [clients] = await startClients(ctx.spawn, 1);
  const rows: Row[] = [];
  for (const [index, scenario] of SCENARIOS.entries()) {
    const sides = [
      { name: 'ours', server: ours, tag: `ours-${index}` },
      { name: 'metrics', server: oursMetrics, tag: `metrics-${index}` },
      { name: 'raw', server: raw, tag: `raw-${index}` },
    ];
    for (const side of sides) await clients!.call('open', { tag: side.tag, url: side.server.info.url, count: scenario.sockets });
    // Warm-up: our server runs more code per message than the raw one, and the JIT takes a few seconds to tier it up.
    for (const side of sides) await measure(side.server, clients!, side.tag, scenario.inFlight, ctx.quick ? 500 : 3000);
    const throughput = new Paired();
    const cpu = new Paired();
    const throughputMetrics = new Paired();
    const cpuMetrics = new Paired();
    for (let round = 0; round < rounds; round++) {
      // Rotate which side goes first, so none always follows another.
      const order = sides.map((_, k) => sides[(k + round) % sides.length]!);
      const results: Record<string, Window> = {};
      for (const side of order) results[side.name] = await measure(side.server, clients!, side.tag, scenario.inFlight, window);
      throughput.add(results.ours!.throughput, results.raw!.throughput);
      cpu.add(results.ours!.cpuPerRt, results.raw!.cpuPerRt);
      throughputMetrics.add(results.metrics!.throughput, results.raw!.throughput);
      cpuMetrics.add(results.metrics!.cpuPerRt, results.raw!.cpuPerRt);
      ctx.log(
        `${scenario.label} round ${round + 1}: ours ${results.ours!.throughput.toFixed(0)}/s ${results.ours!.cpuPerRt.toFixed(2)} µs, ` +
          `metrics on ${results.metrics!.throughput.toFixed(0)}/s ${results.metrics!.cpuPerRt.toFixed(2)} µs, ` +
          `raw ${results.raw!.throughput.toFixed(0)}/s ${results.raw!.cpuPerRt.toFixed(2)} µs`,
      );
    }
    for (const side of sides) await clients!.call('close', { tag: side.tag });
    const t = throughput.summary();
    const c = cpu.summary();
    rows.push({ bench: 'request-response', metric: `${scenario.label}: throughput`, unit: 'rt/s', ...t, goal: { min: 0.9 } });
    rows.push({ bench: 'request-response', metric: `${scenario.label}: server CPU per round trip`, unit: 'µs', ...c, goal: { max: 1.1 } });
    rows.push({ bench: 'request-response', metric: `${scenario.label}: throughput, metrics on`, unit: 'rt/s', ...throughputMetrics.summary(), goal: { min: 0.9 } });
    rows.push({ bench: 'request-response', metric: `${scenario.label}: server CPU per round trip, metrics on`, unit: 'µs', ...cpuMetrics.summary(), goal: { max: 1.1 } });
  }
  for (const server of [ours, oursMetrics]) {
    const errors = await server.call<number>('errors');
    if (errors > 0) throw new Error(`our server reported ${errors} errors`);
  }
  return rows;
}

export const requestResponse: Benchmark = { name: 'request-response', run };
