/**
 * The plant dashboard on a cluster of three nodes: the same load as
 * `plant-dashboard` (10,000 points, 2,000 updates/s, autoflush 200 ms),
 * written on one node through the log, 200 clients on each node. Measured:
 * each node's CPU per second, against a single process (plant-dashboard's
 * server of ours) serving 200 clients with the same application updates,
 * in alternating rounds after a warm-up. Goal (issue 12): the busiest node
 * at most 1.3x the single process. At the end the three nodes must hold
 * the same value.
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
async function measure(writer: Worker, servers: Worker[], ms: number): Promise<number[]> {
  await writer.call('start', { withApp: false });
  await sleep(500);
  const before = await Promise.all(servers.map((s) => s.call<Cpu>('cpu')));
  await sleep(ms);
  const after = await Promise.all(servers.map((s) => s.call<Cpu>('cpu')));
  await writer.call('stop');
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
    const single = await ctx.spawn<{ url: string }>(new URL('./plant-dashboard.ts', HERE), 'plantOurs', null, { name: 'plant-ours' });
    const clients = await startClients(ctx.spawn, 2);
    const perProcess = split(CLIENTS, clients.length);
    const targets = [...nodes.map((n, i) => [`n${i}`, n] as const), ['single', single] as const];
    for (const [tag, server] of targets) {
      await Promise.all(clients.map((c, k) => c.call('open', { tag, url: server.info.url, count: perProcess[k] }, 60_000)));
      await Promise.all(clients.map((c) => c.call('waitAll', { tag, atLeast: 1 })));
    }
    const warmMs = ctx.quick ? 5000 : 15_000;
    await measure(nodes[0]!, nodes, warmMs);
    await measure(single, [single], warmMs);
    const busiest = new Paired();
    const readers = new Paired();
    for (let round = 0; round < rounds; round++) {
      const first = round % 2 === 0;
      const s1 = first ? null : (await measure(single, [single], windowMs))[0]!;
      const cluster = await measure(nodes[0]!, nodes, windowMs);
      const s = s1 ?? (await measure(single, [single], windowMs))[0]!;
      busiest.add(Math.max(...cluster), s);
      readers.add((cluster[1]! + cluster[2]!) / 2, s);
      ctx.log(`round ${round + 1}: nodes ${cluster.map((c) => c.toFixed(1)).join(' / ')} ms CPU/s (writer first), single ${s.toFixed(1)} ms CPU/s`);
    }
    await sleep(1000);
    const hashes = await Promise.all(nodes.map((n) => n.call<string>('hash')));
    if (new Set(hashes).size !== 1) throw new Error('the nodes hold different values at the end');
    const errors = (await Promise.all(nodes.map((n) => n.call<number>('errors')))).reduce((a, b) => a + b, 0);
    if (errors > 0) throw new Error(`the nodes reported ${errors} errors`);
    for (const [tag] of targets) await Promise.all(clients.map((c) => c.call('close', { tag })));
    return [
      { bench: 'cluster-plant', metric: 'busiest node CPU, 3 nodes x 200 clients, one writer', unit: 'ms/s', ...busiest.summary(), goal: { max: 1.3 }, note: 'vs one process serving 200' },
      { bench: 'cluster-plant', metric: 'CPU of a node that only reads the log (mean of two)', unit: 'ms/s', ...readers.summary(), goal: null, note: 'vs one process serving 200' },
    ];
  } finally {
    await redis.stop();
  }
}

export const clusterPlant: Benchmark = { name: 'cluster-plant', run };
