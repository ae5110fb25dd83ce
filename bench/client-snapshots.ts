/**
 * Client snapshots: the cost per diff of `snapshots: true`
 * (applyPatchSnapshot: a new root and new objects along each changed path)
 * against in-place apply (applyPatch), in-process, for two states:
 * - the plant: `{ points: { id: { value, quality, timestamp } } }`, 10,000
 *   points, diffs of 200 point updates (2 replaces each), what one flush
 *   of plant-dashboard carries;
 * - the 10 MB flat map: 68,121 points under one object, 10-replace diffs.
 * Snapshots copy each object on a changed path once per diff, so the
 * width of the root (10,000 or 68,121 keys) is the cost to expect. Batches
 * alternate between the two sides, each on its own copy; medians of
 * per-diff times.
 */
import { BIG_SIDE, flat, pointKey } from './support/data.js';
import { applyPatch, applyPatchSnapshot, type JsonValue } from './support/lib.js';
import { now, Paired, prng } from './support/stats.js';
import type { BenchContext, Benchmark, Row } from './support/table.js';

type Op = { op: 'replace'; path: string; value: JsonValue };

function plant(): JsonValue {
  const points: { [id: string]: JsonValue } = {};
  for (let i = 0; i < 10_000; i++) points[pointKey(i)] = { value: i % 100, quality: 'good', timestamp: 1_700_000_000_000 + i };
  return { points };
}

function plantDiffs(count: number, random: () => number): Op[][] {
  return Array.from({ length: count }, (_, d) => {
    const ops: Op[] = [];
    for (let k = 0; k < 200; k++) {
      const id = pointKey(Math.floor(random() * 10_000));
      ops.push({ op: 'replace', path: `/points/${id}/value`, value: d + k / 1000 }, { op: 'replace', path: `/points/${id}/timestamp`, value: 1_800_000_000_000 + d });
    }
    return ops;
  });
}

function flatDiffs(count: number, random: () => number): Op[][] {
  const size = BIG_SIDE * BIG_SIDE;
  return Array.from({ length: count }, (_, d) =>
    Array.from({ length: 10 }, (_, k): Op => ({ op: 'replace', path: `/${pointKey(Math.floor(random() * size))}/value`, value: d + k / 10 })),
  );
}

/** Paired per-diff times (µs) of snapshot vs in-place apply over the same diffs. */
async function measure(ctx: BenchContext, label: string, make: () => JsonValue, diffs: Op[][], perBatch: number, rounds: number): Promise<Paired> {
  let snap = make();
  let inPlace = make();
  let next = 0;
  const batch = (side: 'ours' | 'ref', start: number): number => {
    const t0 = now();
    if (side === 'ours') for (let k = 0; k < perBatch; k++) snap = applyPatchSnapshot(snap, diffs[(start + k) % diffs.length]);
    else for (let k = 0; k < perBatch; k++) inPlace = applyPatch(inPlace, diffs[(start + k) % diffs.length]);
    return ((now() - t0) * 1000) / perBatch;
  };
  batch('ours', 0);
  batch('ref', 0);
  next += perBatch;
  const paired = new Paired();
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? (['ours', 'ref'] as const) : (['ref', 'ours'] as const);
    const t: Record<string, number> = {};
    for (const side of order) t[side] = batch(side, next);
    next += perBatch;
    paired.add(t.ours!, t.ref!);
    ctx.log(`${label} round ${round + 1}: snapshot ${t.ours!.toFixed(1)} µs, in place ${t.ref!.toFixed(1)} µs per diff`);
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (JSON.stringify(snap) !== JSON.stringify(inPlace)) throw new Error(`${label}: snapshot and in-place apply disagree`);
  return paired;
}

async function run(ctx: BenchContext): Promise<Row[]> {
  const rounds = ctx.quick ? 9 : 31;
  const plantRows = await measure(ctx, 'plant', plant, plantDiffs(512, prng(5)), 50, rounds);
  const flatRows = await measure(ctx, 'flat', () => flat(BIG_SIDE * BIG_SIDE), flatDiffs(512, prng(6)), 10, rounds);
  return [
    { bench: 'client-snapshots', metric: 'plant (10,000 points), 400-op diff', unit: 'µs', ...plantRows.summary(), goal: null, note: 'reference: in-place apply' },
    { bench: 'client-snapshots', metric: '10 MB flat map, 10-op diff', unit: 'µs', ...flatRows.summary(), goal: null, note: 'reference: in-place apply' },
  ];
}

export const clientSnapshots: Benchmark = { name: 'client-snapshots', run };
