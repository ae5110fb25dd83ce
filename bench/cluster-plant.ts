/**
 * The plant dashboard on a cluster of three nodes: the same load as
 * `plant-dashboard` (10,000 points, 2,000 updates/s, autoflush 200 ms),
 * written on one node through the log, 200 clients on each node. Measured:
 * each node's CPU per second, against single-process servers of ours
 * (plant-dashboard's `plantOurs`) each serving 200 clients with the same
 * application updates, in alternating rounds after a warm-up.
 *
 * The reference runs as three single processes at once, so both sides put
 * the same load on the machine (three servers, 600 clients): on 2 cores a
 * process's CPU per unit of work rises with what else runs (three single
 * processes at once read 1.1-2.2x one alone, docs/benchmarks.md). Goal
 * (issue 12): the busiest node at most 1.3x the busiest single process.
 * One single process alone is measured too, as information. At the end
 * the three nodes must hold the same value.
 */
import { listen } from './support/lib.js';
import { hashJson, split, startClients } from './support/client-driver.js';
import { initialPoints, PLANT_FLUSH } from './plant-dashboard.js';
import { pointKey } from './support/data.js';
import { BenchRedis } from './support/redis.js';
import type { Host, Worker } from './support/rpc.js';
import { now, Paired, prng, sleep } from './support/stats.js';
import type { BenchContext, Benchmark, Row } from './support/table.js';

const HERE = new URL(import.meta.url);
const RATE = 2000;
const CLIENTS = 200;
const SECRET = 'the cluster benchmark session secret';

/** A node of the cluster with a server; the writer runs the application's 2,000 updates a second. */
export async function plantNode(host: Host, args: { url: string; name: string }): Promise<{ url: string }> {
  const { redisCluster } = await import('./support/cluster-lib.js');
  const cluster = await redisCluster({ url: args.url, name: args.name, initial: { points: initialPoints() }, onError: () => {} });
  let errors = 0;
  const server = await listen({ host: '127.0.0.1', port: 0, cluster, sessionSecret: SECRET, autoflushDelay: PLANT_FLUSH, onError: () => void (errors += 1) });
  const random = prng(7);
  let k = 0;
  let timer: NodeJS.Timeout | null = null;
  host.handle('start', () => {
    const start = now();
    let done = 0;
    timer = setInterval(() => {
      const due = Math.floor(((now() - start) * RATE) / 1000);
      if (due - done > RATE) done = due - RATE;
      for (; done < due; done++) {
        k += 1;
        const point = { value: Math.round(random() * 1e6) / 100, quality: random() < 0.01 ? 'uncertain' : 'good', timestamp: 1_700_000_000_000 + k };
        cluster.state.set(['points', pointKey(Math.floor(random() * 10_000))], point).catch(() => void (errors += 1));
      }
    }, 10);
  });
  host.handle('stop', () => {
    if (timer) clearInterval(timer);
    timer = null;
  });
  host.handle('hash', () => hashJson(cluster.state.data));
  host.handle('errors', () => errors);
  host.onExit(async () => {
    await server.close();
    await cluster.close();
  });
  return { url: `ws://127.0.0.1:${server.port}/ws` };
}

type Cpu = { cpuMicros: number; t: number };

/** CPU ms per second of each of `servers` while `writer` runs its application for `ms`. */
async function measure(writers: Worker[], servers: Worker[], ms: number): Promise<number[]> {
  await Promise.all(writers.map((w) => w.call('start', { withApp: false })));
  await sleep(500);
  const before = await Promise.all(servers.map((s) => s.call<Cpu>('cpu')));
  await sleep(ms);
  const after = await Promise.all(servers.map((s) => s.call<Cpu>('cpu')));
  await Promise.all(writers.map((w) => w.call('stop')));
  await sleep(2 * PLANT_FLUSH);
  return servers.map((_, i) => (after[i]!.cpuMicros - before[i]!.cpuMicros) / 1000 / ((after[i]!.t - before[i]!.t) / 1000));
}

async function run(ctx: BenchContext): Promise<Row[]> {
  const rounds = ctx.quick ? 2 : 6;
  const windowMs = ctx.quick ? 2500 : 3000;
  const redis = await BenchRedis.start();
  try {
    const name = `bench-${process.pid}`;
    const nodes: Worker<{ url: string }>[] = [];
    for (let i = 0; i < 3; i++) nodes.push(await ctx.spawn(HERE, 'plantNode', { url: redis.url, name }, { name: `cluster-plant-${i}` }));
    const singles: Worker<{ url: string }>[] = [];
    for (let i = 0; i < 3; i++) singles.push(await ctx.spawn<{ url: string }>(new URL('./plant-dashboard.ts', HERE), 'plantOurs', null, { name: `plant-ours-${i}` }));
    const clients = await startClients(ctx.spawn, 2);
    const perProcess = split(CLIENTS, clients.length);
    const targets = [...nodes.map((n, i) => [`n${i}`, n] as const), ...singles.map((s, i) => [`s${i}`, s] as const)];
    for (const [tag, server] of targets) {
      await Promise.all(clients.map((c, k) => c.call('open', { tag, url: server.info.url, count: perProcess[k] }, 60_000)));
      await Promise.all(clients.map((c) => c.call('waitAll', { tag, atLeast: 1 })));
    }
    const warmMs = ctx.quick ? 5000 : 15_000;
    await measure([nodes[0]!], nodes, warmMs);
    await measure(singles, singles, warmMs);
    const busiest = new Paired();
    const readers = new Paired();
    const alone = new Paired();
    for (let round = 0; round < rounds; round++) {
      // Rotate the order, so no side always follows another.
      const order = [0, 1, 2].map((k) => (k + round) % 3);
      const results: number[][] = [];
      for (const side of order) {
        if (side === 0) results[0] = await measure([nodes[0]!], nodes, windowMs);
        else if (side === 1) results[1] = await measure(singles, singles, windowMs);
        else results[2] = await measure([singles[0]!], [singles[0]!], windowMs);
      }
      const [cluster, three, one] = results as [number[], number[], number[]];
      busiest.add(Math.max(...cluster), Math.max(...three));
      readers.add((cluster[1]! + cluster[2]!) / 2, three.reduce((a, b) => a + b, 0) / 3);
      alone.add(Math.max(...cluster), one[0]!);
      ctx.log(
        `round ${round + 1}: nodes ${cluster.map((c) => c.toFixed(1)).join(' / ')} ms CPU/s (writer first), ` +
          `three single processes ${three.map((c) => c.toFixed(1)).join(' / ')}, one alone ${one[0]!.toFixed(1)}`,
      );
    }
    await sleep(1000);
    const hashes = await Promise.all(nodes.map((n) => n.call<string>('hash')));
    if (new Set(hashes).size !== 1) throw new Error('the nodes hold different values at the end');
    const errors = (await Promise.all([...nodes, ...singles].map((n) => n.call<number>('errors')))).reduce((a, b) => a + b, 0);
    if (errors > 0) throw new Error(`the servers reported ${errors} errors`);
    for (const [tag] of targets) await Promise.all(clients.map((c) => c.call('close', { tag })));
    return [
      { bench: 'cluster-plant', metric: 'busiest node CPU, 3 nodes x 200 clients, one writer', unit: 'ms/s', ...busiest.summary(), goal: { max: 1.3 }, note: 'vs the busiest of 3 single processes x 200 clients, run at once' },
      { bench: 'cluster-plant', metric: 'CPU of a node that only reads the log (mean of two)', unit: 'ms/s', ...readers.summary(), goal: null, note: 'vs the mean of the 3 single processes' },
      { bench: 'cluster-plant', metric: 'busiest node CPU vs one single process running alone', unit: 'ms/s', ...alone.summary(), goal: null, note: 'information: the machine then runs 1 server and 200 clients, not 3 and 600' },
    ];
  } finally {
    await redis.stop();
  }
}

export const clusterPlant: Benchmark = { name: 'cluster-plant', run };
