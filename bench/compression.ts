/**
 * Compression: the plant dashboard (10,000 points, 2,000 updates a second,
 * autoflush 200 ms, 200 clients) with `compression: true` against the same
 * server with it off, clients offering permessage-deflate to both. Measured
 * per side: the server process's CPU time per second and the bytes it
 * wrote to the sockets per second (from its own metrics, so the WebSocket
 * framing is counted and the bytes are what went on the wire). The ratio
 * is on / off: what compression costs in CPU and saves in bandwidth.
 */
import type { Worker } from './support/rpc.js';
import { split, startClients } from './support/client-driver.js';
import { Paired, sleep } from './support/stats.js';
import type { BenchContext, Benchmark, Row } from './support/table.js';
import { PLANT_CLIENTS, PLANT_FLUSH } from './plant-dashboard.js';

const PLANT = new URL('./plant-dashboard.ts', import.meta.url);

interface Sample {
  cpuMsPerS: number;
  kBPerS: number;
}

async function measure(server: Worker, ms: number): Promise<Sample> {
  await server.call('start');
  await sleep(500);
  const [cpu0, b0] = await Promise.all([server.call<{ cpuMicros: number; t: number }>('cpu'), server.call<number>('wireBytes')]);
  await sleep(ms);
  const [cpu1, b1] = await Promise.all([server.call<{ cpuMicros: number; t: number }>('cpu'), server.call<number>('wireBytes')]);
  await server.call('stop');
  await sleep(2 * PLANT_FLUSH);
  const seconds = (cpu1.t - cpu0.t) / 1000;
  return { cpuMsPerS: (cpu1.cpuMicros - cpu0.cpuMicros) / 1000 / seconds, kBPerS: (b1 - b0) / 1024 / seconds };
}

async function run(ctx: BenchContext): Promise<Row[]> {
  const total = ctx.quick ? 4000 : 16_000; // per side
  const rounds = ctx.quick ? 2 : 8;
  const on = await ctx.spawn<{ url: string }>(PLANT, 'plantOurs', { compression: true, metrics: true }, { name: 'compression-on' });
  const off = await ctx.spawn<{ url: string }>(PLANT, 'plantOurs', { compression: false, metrics: true }, { name: 'compression-off' });
  const clients = await startClients(ctx.spawn, 2);
  const perProcess = split(PLANT_CLIENTS, clients.length);
  for (const [tag, server] of [['on', on], ['off', off]] as const) {
    await Promise.all(clients.map((c, k) => c.call('open', { tag, url: server.info.url, count: perProcess[k], deflate: true }, 60_000)));
    await Promise.all(clients.map((c) => c.call('waitAll', { tag, atLeast: 1 })));
  }
  // Warm-up of both, unmeasured (see plant-dashboard.ts).
  const warmMs = ctx.quick ? 4000 : 15_000;
  await measure(on, warmMs);
  await measure(off, warmMs);
  const cpu = new Paired();
  const bytes = new Paired();
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const);
    const result: Record<string, Sample> = {};
    for (const side of order) result[side] = await measure(side === 'on' ? on : off, total / rounds);
    cpu.add(result.on!.cpuMsPerS, result.off!.cpuMsPerS);
    bytes.add(result.on!.kBPerS, result.off!.kBPerS);
    ctx.log(
      `round ${round + 1}: on ${result.on!.cpuMsPerS.toFixed(1)} ms CPU/s ${result.on!.kBPerS.toFixed(0)} KiB/s, ` +
        `off ${result.off!.cpuMsPerS.toFixed(1)} ms CPU/s ${result.off!.kBPerS.toFixed(0)} KiB/s`,
    );
  }
  for (const tag of ['on', 'off']) await Promise.all(clients.map((c) => c.call('close', { tag })));
  return [
    { bench: 'compression', metric: 'plant dashboard: server CPU, compression on vs off', unit: 'ms/s', ...cpu.summary(), goal: null },
    { bench: 'compression', metric: 'plant dashboard: bytes on the wire to 200 clients, on vs off', unit: 'KiB/s', ...bytes.summary(), goal: null },
  ];
}

export const compression: Benchmark = { name: 'compression', run };
