/**
 * Cluster latency: a change made on node A reaches a client of node B
 * (autoflush 0), against a change on a single-process server reaching its
 * own client, side by side in one run. Each node and the single server run
 * in their own process; the change is asked for over IPC from here (the
 * same hop on both sides) and timed until the client here has the state
 * message. Redis is a redis-server of the bench's own. Goal (issue 12):
 * p50 within 1 ms and p99 within 5 ms of the single process.
 */
import WebSocket from 'ws';
import { listen, Storage } from './support/lib.js';
import { BenchRedis } from './support/redis.js';
import type { Host, Worker } from './support/rpc.js';
import { bounded, now } from './support/stats.js';
import type { BenchContext, Benchmark, Row } from './support/table.js';

const HERE = new URL(import.meta.url);
const SECRET = 'the cluster benchmark session secret';

/** Answers `change` by setting one leaf without waiting for it. */
function changes(host: Host, state: Storage): void {
  let n = 0;
  host.handle('change', () => {
    Promise.resolve(state.set(['v'], ++n)).catch(() => {});
    return null;
  });
}

/** A cluster node; with `serve`, a server on it. */
export async function clusterNode(host: Host, args: { url: string; name: string; serve: boolean }): Promise<{ ws: string }> {
  const { redisCluster } = await import('./support/cluster-lib.js');
  const cluster = await redisCluster({ url: args.url, name: args.name, initial: { v: 0 }, onError: () => {} });
  changes(host, cluster.state);
  const server = args.serve ? await listen({ host: '127.0.0.1', port: 0, cluster, sessionSecret: SECRET, autoflushDelay: 0, onError: () => {} }) : null;
  host.onExit(async () => {
    await server?.close();
    await cluster.close();
  });
  return { ws: server === null ? '' : `ws://127.0.0.1:${server.port}/ws` };
}

/** The reference: one process, its own state. */
export async function singleNode(host: Host): Promise<{ ws: string }> {
  const state = new Storage({ v: 0 });
  changes(host, state);
  const server = await listen({ host: '127.0.0.1', port: 0, state, autoflushDelay: 0 });
  host.onExit(() => server.close());
  return { ws: `ws://127.0.0.1:${server.port}/ws` };
}

/** A plain client that resolves `next()` on each state message. */
async function stateWatcher(url: string): Promise<{ next(): Promise<void>; close(): void }> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  let waiting: (() => void) | null = null;
  let first: (() => void) | null = null;
  const joined = new Promise<void>((done) => (first = done));
  ws.on('message', (data: Buffer) => {
    const text = data.toString();
    if (text[0] !== '0' || !text.includes('"state"')) return;
    if (first !== null) {
      first();
      first = null;
      return;
    }
    const w = waiting;
    waiting = null;
    w?.();
  });
  await bounded(joined, 10_000, `the first state from ${url}`);
  return {
    next: () => new Promise<void>((done) => (waiting = done)),
    close: () => ws.close(),
  };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function timeOne(changer: Worker, watcher: { next(): Promise<void> }): Promise<number> {
  const arrived = watcher.next();
  const started = now();
  await changer.call('change');
  await bounded(arrived, 10_000, 'a change to arrive');
  return now() - started;
}

async function run(ctx: BenchContext): Promise<Row[]> {
  const samples = ctx.quick ? 300 : 2000;
  const redis = await BenchRedis.start();
  try {
    const name = `bench-${process.pid}`;
    const a: Worker<{ ws: string }> = await ctx.spawn(HERE, 'clusterNode', { url: redis.url, name, serve: false }, { name: 'cluster-a' });
    const b: Worker<{ ws: string }> = await ctx.spawn(HERE, 'clusterNode', { url: redis.url, name, serve: true }, { name: 'cluster-b' });
    const single: Worker<{ ws: string }> = await ctx.spawn(HERE, 'singleNode', null, { name: 'single' });
    const onB = await stateWatcher(b.info.ws);
    const onSingle = await stateWatcher(single.info.ws);
    const ours: number[] = [];
    const ref: number[] = [];
    for (let i = 0; i < samples + 50; i++) {
      const o = await timeOne(a, onB);
      const r = await timeOne(single, onSingle);
      if (i < 50) continue; // warm-up
      ours.push(o);
      ref.push(r);
    }
    onB.close();
    onSingle.close();
    const rows: Row[] = [];
    for (const [p, slack] of [[50, 1], [99, 5]] as const) {
      const o = percentile(ours, p);
      const r = percentile(ref, p);
      ctx.log(`p${p}: cluster ${o.toFixed(2)} ms, single ${r.toFixed(2)} ms`);
      rows.push({
        bench: 'cluster-latency',
        metric: `change on node A -> client on node B, p${p}`,
        unit: 'ms',
        ours: o,
        ref: r,
        ratio: o / r,
        goal: { max: Math.floor(((r + slack) / r) * 100) / 100 },
        note: `vs one process; goal: at most ${slack} ms more`,
      });
    }
    return rows;
  } finally {
    await redis.stop();
  }
}

export const clusterLatency: Benchmark = { name: 'cluster-latency', run };
