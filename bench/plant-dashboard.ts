/**
 * Plant dashboard: a shared state of 10,000 points keyed by id
 * (`{ value, quality, timestamp }`), 2,000 point updates per second from
 * the server application, 200 clients, autoflush 200 ms. Measured: the
 * server process's CPU time and the bytes sent, over 20 s (5 s with
 * --quick) split into rounds that alternate with the reference, after an
 * unmeasured warm-up of each side (20 s; 6 s with --quick).
 *
 * The reference is a raw `ws` lower bound: the same update sequence turned
 * beforehand into the equivalent patches (one per 200 ms, each point once
 * with its last value, as our compaction does), broadcast at the same rate
 * as pre-encoded Buffers: no diffing, no encoding, no bookkeeping. It runs
 * in two variants, in the same rounds:
 * - "+ app": the application still produces its 2,000 updates a second
 *   (the same generator, at the same pace, into a plain object), since that
 *   work is the application's and ours pays it too. The goal row.
 * - "bare": no application work at all, only the broadcasts (information).
 * A verifier client applies every diff of ours and checks the result against
 * the server's value at the end.
 */
import { WebSocketServer } from 'ws';
import type { JsonValue } from './support/lib.js';
import { listen, Storage } from './support/lib.js';
import { hashJson, split, startClients } from './support/client-driver.js';
import { pointKey } from './support/data.js';
import type { Host, Worker } from './support/rpc.js';
import { now, Paired, prng, sleep } from './support/stats.js';
import type { BenchContext, Benchmark, Row } from './support/table.js';

const HERE = new URL(import.meta.url);
const POINTS = 10_000;
const RATE = 2000; // updates per second
const FLUSH = 200; // ms
const CLIENTS = 200;
const SEED = 7;

type PlantPoint = { value: number; quality: string; timestamp: number };

function initialPoints(): { [id: string]: PlantPoint } {
  const points: { [id: string]: PlantPoint } = {};
  for (let i = 0; i < POINTS; i++) points[pointKey(i)] = { value: i / 10, quality: 'good', timestamp: 1_700_000_000_000 };
  return points;
}

/** The application's update sequence: the k-th update, the same in every process. */
function updates(seed: number): () => { id: string; point: PlantPoint } {
  const random = prng(seed);
  let k = 0;
  return () => {
    k += 1;
    const id = pointKey(Math.floor(random() * POINTS));
    const point = { value: Math.round(random() * 1e6) / 100, quality: random() < 0.01 ? 'uncertain' : 'good', timestamp: 1_700_000_000_000 + k };
    return { id, point };
  };
}

/** Runs `apply` RATE times a second (in 10 ms ticks, catching up on late ticks, never more than a second behind). */
export function pace(apply: () => void): { stop(): void } {
  const start = now();
  let done = 0;
  const timer = setInterval(() => {
    const due = Math.floor(((now() - start) * RATE) / 1000);
    if (due - done > RATE) done = due - RATE;
    while (done < due) {
      apply();
      done += 1;
    }
  }, 10);
  return { stop: () => clearInterval(timer) };
}

// ---- ours --------------------------------------------------------------------

/** Our server; `compression` and `metrics` for the compression row (bench/compression.ts), which reads the wire bytes from the metrics. */
export async function plantOurs(host: Host, args: { compression?: boolean; metrics?: boolean } | null): Promise<{ url: string }> {
  const storage = new Storage({ points: initialPoints() });
  let errors = 0;
  const server = await listen({
    host: '127.0.0.1',
    port: 0,
    state: storage,
    autoflushDelay: FLUSH,
    onError: () => void (errors += 1),
    compression: args?.compression ?? false,
    metrics: args?.metrics ?? false,
  });
  host.handle('wireBytes', async () => {
    const metric = (await server.metrics!.getMetricsAsJSON()).find((m) => m.name === 'juggler_sent_bytes_total');
    return metric!.values[0]!.value;
  });
  const next = updates(SEED);
  let running: { stop(): void } | null = null;
  // The application: 2,000 point updates a second, each a plain set().
  host.handle('start', () => {
    running = pace(() => {
      const { id, point } = next();
      storage.set(['points', id], point);
    });
  });
  host.handle('stop', () => {
    running?.stop();
    running = null;
  });
  host.handle('hash', () => hashJson(storage.data));
  host.handle('errors', () => errors);
  host.onExit(() => server.close());
  return { url: `ws://127.0.0.1:${server.port}/ws` };
}

// ---- the raw lower bound -----------------------------------------------------

/** Cuts a message into juggler segments (65536 units of payload each), as bytes. */
function frames(text: string): Buffer[] {
  const out: Buffer[] = [];
  for (let pos = 0; pos < text.length; pos += 65536) {
    const last = pos + 65536 >= text.length;
    out.push(Buffer.from((last ? '0' : '1') + text.slice(pos, pos + 65536)));
  }
  return out;
}

export async function plantRaw(host: Host, args: { windows: number }): Promise<{ url: string }> {
  // Precomputed: the initial value, and one patch per 200 ms window of the same update sequence.
  const joinFrames = frames(JSON.stringify({ type: 'state', diff: [{ op: 'replace', path: '', value: { points: initialPoints() } }] }));
  const next = updates(SEED);
  const patches: Buffer[][] = [];
  for (let w = 0; w < args.windows; w++) {
    const latest = new Map<string, PlantPoint>();
    for (let k = 0; k < (RATE * FLUSH) / 1000; k++) {
      const { id, point } = next();
      latest.delete(id);
      latest.set(id, point);
    }
    const diff = [...latest].map(([id, point]) => ({ op: 'replace', path: `/points/${id}`, value: point as JsonValue }));
    patches.push(frames(JSON.stringify({ type: 'state', diff })));
  }
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => wss.once('listening', resolve));
  wss.on('connection', (ws) => {
    ws.on('error', () => {});
    for (const frame of joinFrames) ws.send(frame, { binary: false });
  });
  let window = 0;
  let timer: NodeJS.Timeout | null = null;
  // The application's own model, for the "+ app" variant: a plain object it writes its updates into.
  const model: { [id: string]: PlantPoint } = initialPoints();
  const produce = updates(SEED);
  let app: { stop(): void } | null = null;
  host.handle('start', ({ withApp }: { withApp: boolean }) => {
    if (withApp) {
      app = pace(() => {
        const { id, point } = produce();
        model[id] = point;
      });
    }
    timer = setInterval(() => {
      const message = patches[window++ % patches.length]!;
      for (const ws of wss.clients) for (const frame of message) ws.send(frame, { binary: false });
    }, FLUSH);
  });
  host.handle('stop', () => {
    if (timer) clearInterval(timer);
    timer = null;
    app?.stop();
    app = null;
  });
  host.handle('errors', () => 0);
  host.onExit(() => new Promise((resolve) => wss.close(resolve)));
  return { url: `ws://127.0.0.1:${(wss.address() as { port: number }).port}/` };
}

// ---- orchestration -----------------------------------------------------------

interface Sample {
  cpuMsPerS: number;
  kBPerS: number;
}

async function measure(server: Worker, clients: Worker[], tag: string, ms: number, withApp: boolean): Promise<Sample> {
  const bytes = async (): Promise<number> => (await Promise.all(clients.map((c) => c.call<{ bytes: number }>('counts', { tag })))).reduce((a, c) => a + c.bytes, 0);
  await server.call('start', { withApp });
  await sleep(500);
  const [cpu0, b0] = await Promise.all([server.call<{ cpuMicros: number; t: number }>('cpu'), bytes()]);
  await sleep(ms);
  const [cpu1, b1] = await Promise.all([server.call<{ cpuMicros: number; t: number }>('cpu'), bytes()]);
  await server.call('stop');
  await sleep(2 * FLUSH); // the last flush goes out
  const seconds = (cpu1.t - cpu0.t) / 1000;
  return { cpuMsPerS: (cpu1.cpuMicros - cpu0.cpuMicros) / 1000 / seconds, kBPerS: (b1 - b0) / 1024 / seconds };
}

async function run(ctx: BenchContext): Promise<Row[]> {
  const total = ctx.quick ? 5000 : 20_000; // per side
  const rounds = ctx.quick ? 2 : 8;
  const windowMs = total / rounds;
  const windows = Math.ceil(((total + rounds * 1000) / FLUSH) * 1.5);
  const ours = await ctx.spawn<{ url: string }>(HERE, 'plantOurs', null, { name: 'plant-ours' });
  const raw = await ctx.spawn<{ url: string }>(HERE, 'plantRaw', { windows }, { name: 'plant-raw' });
  const clients = await startClients(ctx.spawn, 2);
  const perProcess = split(CLIENTS, clients.length);
  for (const [tag, server] of [['ours', ours], ['raw', raw]] as const) {
    await Promise.all(clients.map((c, k) => c.call('open', { tag, url: server.info.url, count: perProcess[k] }, 60_000)));
    await Promise.all(clients.map((c) => c.call('waitAll', { tag, atLeast: 1 })));
  }
  await clients[0]!.call('verifyOpen', { url: ours.info.url });
  const cpu = new Paired();
  const cpuBare = new Paired();
  const bytes = new Paired();
  const sides = ['ours', 'raw+app', 'raw'] as const;
  // Warm-up, not measured: a server's cost over its first seconds is not what a dashboard server
  // running for days costs. The JIT tiers code up and the heap settles for a while (our server
  // goes from ~120 to ~55 ms CPU/s over its first 15-20 s of this load; the raw one, with far less
  // code, settles within a few seconds). Both sides get the same warm-up.
  const warmMs = ctx.quick ? 6000 : 20_000;
  await measure(ours, clients, 'ours', warmMs, false);
  await measure(raw, clients, 'raw', warmMs, true);
  for (let round = 0; round < rounds; round++) {
    // Rotate the order, so no side always runs first or last.
    const order = sides.map((_, k) => sides[(k + round) % sides.length]!);
    const result: Record<string, Sample> = {};
    for (const side of order) result[side] = await measure(side === 'ours' ? ours : raw, clients, side === 'ours' ? 'ours' : 'raw', windowMs, side === 'raw+app');
    cpu.add(result.ours!.cpuMsPerS, result['raw+app']!.cpuMsPerS);
    cpuBare.add(result.ours!.cpuMsPerS, result.raw!.cpuMsPerS);
    bytes.add(result.ours!.kBPerS, result.raw!.kBPerS);
    ctx.log(
      `round ${round + 1}: ours ${result.ours!.cpuMsPerS.toFixed(1)} ms CPU/s ${result.ours!.kBPerS.toFixed(0)} KiB/s, ` +
        `raw + app ${result['raw+app']!.cpuMsPerS.toFixed(1)} ms CPU/s, raw ${result.raw!.cpuMsPerS.toFixed(1)} ms CPU/s ${result.raw!.kBPerS.toFixed(0)} KiB/s`,
    );
  }
  const [expected, seen] = await Promise.all([ours.call<string>('hash'), clients[0]!.call<{ hash: string; messages: number }>('verifyHash')]);
  if (expected !== seen.hash) throw new Error(`the verifier's state differs from the server's after ${seen.messages} diffs`);
  const errors = await ours.call<number>('errors');
  if (errors > 0) throw new Error(`our server reported ${errors} errors`);
  for (const tag of ['ours', 'raw']) await Promise.all(clients.map((c) => c.call('close', { tag })));
  return [
    { bench: 'plant-dashboard', metric: 'server CPU vs raw broadcast + the same app updates', unit: 'ms/s', ...cpu.summary(), goal: { max: 1.5 }, note: `${seen.messages} diffs verified` },
    { bench: 'plant-dashboard', metric: 'server CPU vs raw broadcast alone (no app work)', unit: 'ms/s', ...cpuBare.summary(), goal: null },
    { bench: 'plant-dashboard', metric: 'bytes sent to 200 clients', unit: 'KiB/s', ...bytes.summary(), goal: null },
  ];
}

export { initialPoints, FLUSH as PLANT_FLUSH, CLIENTS as PLANT_CLIENTS };

export const plantDashboard: Benchmark = { name: 'plant-dashboard', run };
