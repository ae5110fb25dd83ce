/**
 * Writes through the log from one node: one-leaf changes made as fast as
 * the node takes them, batched per tick (each synchronous run of writes is
 * one log entry), each batch awaited until applied from the log. Reported
 * against the goal of 50,000 changes/s sustained, with the CPU
 * Redis spent meanwhile (INFO cpu) next to the node's own.
 */
import { BenchRedis } from './support/redis.js';
import type { Host, Worker } from './support/rpc.js';
import type { BenchContext, Benchmark, Row } from './support/table.js';

const HERE = new URL(import.meta.url);
const GOAL = 50_000;
const PER_TICK = 1000;

/** A cluster node that writes for `ms` when told and says how many writes were applied. */
export async function writerNode(host: Host, args: { url: string; name: string }): Promise<null> {
  const { redisCluster } = await import('./support/cluster-lib.js');
  const cluster = await redisCluster({ url: args.url, name: args.name, initial: { p: {} }, onError: () => {} });
  host.handle('write', async ({ ms }: { ms: number }) => {
    const cpu0 = process.cpuUsage();
    const started = Date.now();
    let n = 0;
    while (Date.now() - started < ms) {
      const batch: Promise<void>[] = [];
      for (let i = 0; i < PER_TICK; i++, n++) batch.push(cluster.state.set(['p', `k${n % 5000}`], n));
      await Promise.all(batch);
    }
    const cpu = process.cpuUsage(cpu0);
    return { writes: n, ms: Date.now() - started, cpuMs: (cpu.user + cpu.system) / 1000 };
  });
  host.onExit(() => cluster.close());
  return null;
}

async function run(ctx: BenchContext): Promise<Row[]> {
  const ms = ctx.quick ? 3000 : 10_000;
  const redis = await BenchRedis.start();
  try {
    const node: Worker = await ctx.spawn(HERE, 'writerNode', { url: redis.url, name: `bench-${process.pid}` }, { name: 'cluster-writer' });
    await node.call('write', { ms: 500 }); // warm-up
    const cpu0 = await redis.cpuSeconds();
    const result = await node.call<{ writes: number; ms: number; cpuMs: number }>('write', { ms });
    const redisCpuMs = ((await redis.cpuSeconds()) - cpu0) * 1000;
    const perSecond = (result.writes / result.ms) * 1000;
    ctx.log(`${result.writes} writes in ${result.ms} ms; node CPU ${result.cpuMs.toFixed(0)} ms, Redis CPU ${redisCpuMs.toFixed(0)} ms`);
    return [
      { bench: 'cluster-writes', metric: `one-leaf changes/s through the log, ${PER_TICK} per tick`, unit: '/s', ours: perSecond, ref: GOAL, ratio: perSecond / GOAL, goal: { min: 1 }, note: 'ref: the goal, 50,000/s' },
      {
        bench: 'cluster-writes',
        metric: 'Redis CPU while writing, per second',
        unit: 'ms/s',
        ours: (redisCpuMs / result.ms) * 1000,
        ref: (result.cpuMs / result.ms) * 1000,
        ratio: redisCpuMs / result.cpuMs,
        goal: null,
        note: 'Redis vs the writing node',
      },
    ];
  } finally {
    await redis.stop();
  }
}

export const clusterWrites: Benchmark = { name: 'cluster-writes', run };
