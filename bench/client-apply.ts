/**
 * Client apply: our client's patch application (src/state/apply-patch.ts)
 * of 10-operation patches to a 10 MB state (261 × 261 points), vs
 * fast-json-patch `applyPatch(doc, patch, false, true)` (no validation,
 * mutating the document: its fastest mode). Each patch replaces six leaves
 * and adds then removes two keys, all at random points, so every patch
 * applies to the state the previous ones left. In-process; batches of
 * patches alternate between the two, each on its own copy of the state;
 * medians of per-patch times.
 */
import fastJsonPatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import { BIG_SIDE, groupKey, pointKey, twoLevel } from './support/data.js';
import { applyPatch, type JsonValue } from './support/lib.js';
import { now, Paired, prng } from './support/stats.js';
import type { BenchContext, Benchmark, Row } from './support/table.js';

function patches(count: number, random: () => number): Operation[][] {
  const at = (): string => `/${groupKey(Math.floor(random() * BIG_SIDE))}/${pointKey(Math.floor(random() * BIG_SIDE))}`;
  return Array.from({ length: count }, (_, i) => {
    const added = [at(), at()];
    const ops: Operation[] = [];
    for (let k = 0; k < 6; k++) ops.push({ op: 'replace', path: `${at()}/value`, value: i + k / 10 });
    for (const path of added) ops.push({ op: 'add', path: `${path}/note`, value: 'checked' });
    // Remove what was just added (in reverse), so the state keeps its shape patch after patch.
    for (const path of added.reverse()) ops.push({ op: 'remove', path: `${path}/note` });
    return ops;
  });
}

async function run(ctx: BenchContext): Promise<Row[]> {
  const list = patches(4096, prng(11));
  let ours: JsonValue = twoLevel(BIG_SIDE, BIG_SIDE);
  const theirs = twoLevel(BIG_SIDE, BIG_SIDE);
  const perBatch = 1000;
  const rounds = ctx.quick ? 15 : 61;
  let next = 0;
  const batch = (side: 'ours' | 'ref', start: number): number => {
    const t0 = now();
    if (side === 'ours') for (let k = 0; k < perBatch; k++) ours = applyPatch(ours, list[(start + k) % list.length]);
    else for (let k = 0; k < perBatch; k++) fastJsonPatch.applyPatch(theirs, list[(start + k) % list.length]!, false, true);
    return ((now() - t0) * 1000) / perBatch;
  };
  const paired = new Paired();
  for (let warm = 0; warm < 2; warm++) {
    batch('ours', next);
    batch('ref', next);
    next += perBatch;
  }
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? (['ours', 'ref'] as const) : (['ref', 'ours'] as const);
    const t: Record<string, number> = {};
    for (const side of order) t[side] = batch(side, next);
    next += perBatch;
    paired.add(t.ours!, t.ref!);
    ctx.log(`round ${round + 1}: ours ${t.ours!.toFixed(2)} µs, fast-json-patch ${t.ref!.toFixed(2)} µs per patch`);
    await new Promise((resolve) => setImmediate(resolve));
  }
  // Both applied the same patches to the same value: they must agree.
  if (JSON.stringify(ours) !== JSON.stringify(theirs)) throw new Error('our applyPatch and fast-json-patch disagree on the result');
  return [{ bench: 'client-apply', metric: '10-op patch on a 10 MB state', unit: 'µs', ...paired.summary(), goal: { max: 1.5 }, note: 'reference: fast-json-patch applyPatch, mutating' }];
}

export const clientApply: Benchmark = { name: 'client-apply', run };
