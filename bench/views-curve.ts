/**
 * Views curve: 5,000 points (`{ points: { pNNNNN: { value, ... } } }`) and
 * N subscribers, each with its own one-leaf view (`['points', pNNNNN]`:
 * N distinct views), for N = 10, 100, 1,000 and 5,000. One change per
 * flush, each at a point some view sees, so every change touches exactly
 * one view. Measured: microseconds per change (`storage.set()` plus the
 * flush that routes it, builds the one view's diff, encodes and hands it
 * to its subscriber). The goal is the curve's shape: a change costs in
 * proportion to the views it touches (one), not to N, so the 5,000-view
 * figure must stay within 2x of the 10-view one.
 *
 * In-process: a StateChannel (what the server uses) with subscribers that
 * count bytes and drop them; no sockets, so nothing but our own work is
 * timed. Batches alternate between N views and the 10-view reference.
 */
import { messageEncoder, StateChannel, Storage, type EncodedMessage, type JsonValue } from './support/lib.js';
import { point, pointKey } from './support/data.js';
import { Sink } from './state-size.js';
import { now, Paired } from './support/stats.js';
import type { BenchContext, Benchmark, Row } from './support/table.js';

const POINTS = 5000;
const COUNTS = [10, 100, 1000, 5000];

interface Case {
  storage: Storage;
  channel: StateChannel<EncodedMessage>;
  sinks: Sink[];
  views: number;
  /** Changes made so far. */
  changes: number;
}

function makeCase(views: number): Case {
  const points: { [key: string]: JsonValue } = {};
  for (let i = 0; i < POINTS; i++) points[pointKey(i)] = point(i);
  const storage = new Storage({ points });
  const channel = new StateChannel(storage, { autoflushDelay: null, encode: messageEncoder({ maxSegmentSize: 65536, framing: 'segmented' }) });
  const sinks: Sink[] = [];
  for (let i = 0; i < views; i++) {
    const sink = new Sink();
    channel.join(sink, null, [['points', pointKey(i)]]);
    sinks.push(sink);
  }
  return { storage, channel, sinks, views, changes: 0 };
}

/** Microseconds per change over `count` changes, each at the point of one view (`start` onwards, round robin). */
function batch(c: Case, start: number, count: number): number {
  const { storage, channel, views } = c;
  c.changes += count;
  const t0 = now();
  for (let k = 0; k < count; k++) {
    const i = start + k;
    storage.set(['points', pointKey(i % views), 'value'], i + 0.25);
    channel.flush();
  }
  return ((now() - t0) * 1000) / count;
}

async function run(ctx: BenchContext): Promise<Row[]> {
  const perBatch = 2000;
  const rounds = ctx.quick ? 9 : 31;
  const cases = COUNTS.map(makeCase);
  const reference = cases[0]!;
  const rows: Row[] = [];
  let start = 0;
  for (const c of cases) {
    const paired = new Paired();
    // Warm-up rounds, not kept.
    for (let r = 0; r < 3; r++) {
      batch(c, start, perBatch);
      batch(reference, start, perBatch);
      start += perBatch;
    }
    for (let r = 0; r < rounds; r++) {
      // Alternate which side runs first, so a slow phase of the machine hits both alike.
      let ours: number;
      let ref: number;
      if (r % 2 === 0) {
        ours = batch(c, start, perBatch);
        ref = batch(reference, start, perBatch);
      } else {
        ref = batch(reference, start, perBatch);
        ours = batch(c, start, perBatch);
      }
      paired.add(ours, ref);
      start += perBatch;
      await new Promise((resolve) => setImmediate(resolve));
    }
    const delivered = c.sinks.reduce((a, s) => a + s.messages, 0) - c.views;
    if (delivered !== c.changes) throw new Error(`${c.views} views: ${delivered} diffs delivered for ${c.changes} changes (one each expected)`);
    const summary = paired.summary();
    ctx.log(`${c.views} views: ${summary.ours.toFixed(2)} µs per change, 10 views ${summary.ref.toFixed(2)} µs`);
    rows.push({
      bench: 'views-curve',
      metric: `one change per flush, ${c.views.toLocaleString('en-US')} subscribers in distinct one-leaf views, vs 10`,
      unit: 'µs',
      ...summary,
      goal: c.views === COUNTS.at(-1) ? { max: 2 } : null,
    });
  }
  for (const c of cases) c.channel.close();
  return rows;
}

export const viewsCurve: Benchmark = { name: 'views-curve', run };
