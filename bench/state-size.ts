/**
 * State size: what one change costs (`storage.set()` of one leaf plus the
 * flush that produces and encodes its patch), in a 10 MB state vs a 1 KB
 * one, in two shapes: two levels deep (261 × 261 points) and one flat map
 * of 68,121 points. The goal is that the 10 MB state costs at most twice
 * the 1 KB one: no change may cost time in proportion to the whole state or
 * to a whole wide object on its path.
 *
 * In-process: a StateChannel (what the server uses) with one subscriber
 * that drops what it gets. Batches of changes at random leaves alternate
 * between the big and the small state; medians of per-change times.
 */
import { messageEncoder, StateChannel, Storage, type EncodedMessage, type JsonValue, type StateSubscriber } from './support/lib.js';
import { BIG_SIDE, flat, groupKey, jsonSize, pointKey, SMALL_SIDE, twoLevel } from './support/data.js';
import { now, Paired, prng } from './support/stats.js';
import type { BenchContext, Benchmark, Row } from './support/table.js';

type Path = (string | number)[];

/** A subscriber that takes the frames and drops them, as a socket that writes instantly would. */
export class Sink implements StateSubscriber<EncodedMessage> {
  readonly extension = false;
  readonly congested = false;
  messages = 0;
  sendEncoded(_frames: EncodedMessage): void {
    this.messages += 1;
  }
}

interface Case {
  storage: Storage;
  channel: StateChannel<EncodedMessage>;
  sink: Sink;
  paths: Path[];
  bytes: number;
}

function makeCase(value: JsonValue, paths: Path[]): Case {
  const bytes = jsonSize(value);
  const storage = new Storage(value);
  const channel = new StateChannel(storage, { autoflushDelay: null, encode: messageEncoder({ maxSegmentSize: 65536, framing: 'segmented' }) });
  const sink = new Sink();
  channel.join(sink);
  return { storage, channel, sink, paths, bytes };
}

function twoLevelPaths(side: number, count: number, random: () => number): Path[] {
  return Array.from({ length: count }, () => [groupKey(Math.floor(random() * side)), pointKey(Math.floor(random() * side)), 'value']);
}

function flatPaths(size: number, count: number, random: () => number): Path[] {
  return Array.from({ length: count }, () => [pointKey(Math.floor(random() * size)), 'value']);
}

/** Microseconds per change over `count` changes: set one leaf, flush its patch. */
function batch(c: Case, start: number, count: number): number {
  const { storage, channel, paths } = c;
  const t0 = now();
  for (let k = 0; k < count; k++) {
    const i = start + k;
    storage.set(paths[i % paths.length]!, i + 0.25);
    channel.flush();
  }
  return ((now() - t0) * 1000) / count;
}

/**
 * The floor: the same writes done by hand in plain objects of the same
 * sizes (`root[g][p].value = v`, no storage), to show what the memory
 * alone makes a 10 MB state cost over a 1 KB one on this machine.
 */
function plainBatch(root: JsonValue, paths: Path[], start: number, count: number): number {
  const t0 = now();
  for (let k = 0; k < count; k++) {
    const i = start + k;
    const path = paths[i % paths.length]!;
    let node = root as { [key: string]: JsonValue };
    for (let d = 0; d < path.length - 1; d++) node = node[path[d] as string] as { [key: string]: JsonValue };
    node[path[path.length - 1] as string] = i + 0.25;
  }
  return ((now() - t0) * 1000) / count;
}

async function run(ctx: BenchContext): Promise<Row[]> {
  const random = prng(42);
  const perBatch = 5000;
  const rounds = ctx.quick ? 15 : 61;
  const big = BIG_SIDE * BIG_SIDE;
  const small = SMALL_SIDE * SMALL_SIDE;
  const shapes = [
    {
      name: `two-level ${BIG_SIDE}×${BIG_SIDE}`,
      big: makeCase(twoLevel(BIG_SIDE, BIG_SIDE), twoLevelPaths(BIG_SIDE, 4096, random)),
      small: makeCase(twoLevel(SMALL_SIDE, SMALL_SIDE), twoLevelPaths(SMALL_SIDE, 4096, random)),
      plain: { big: twoLevel(BIG_SIDE, BIG_SIDE), small: twoLevel(SMALL_SIDE, SMALL_SIDE) },
    },
    {
      name: `flat ${big.toLocaleString('en-US')}-key map`,
      big: makeCase(flat(big), flatPaths(big, 4096, random)),
      small: makeCase(flat(small), flatPaths(small, 4096, random)),
      plain: { big: flat(big), small: flat(small) },
    },
  ];
  const rows: Row[] = [];
  for (const shape of shapes) {
    const paired = new Paired();
    const floor = new Paired();
    let i = 0;
    for (let warm = 0; warm < 2; warm++) {
      batch(shape.big, i, perBatch);
      batch(shape.small, i, perBatch);
    }
    for (let round = 0; round < rounds; round++) {
      i += perBatch;
      const order = round % 2 === 0 ? [shape.big, shape.small] : [shape.small, shape.big];
      const t: number[] = order.map((c) => batch(c, i, perBatch));
      const [bigUs, smallUs] = round % 2 === 0 ? t : [t[1]!, t[0]!];
      paired.add(bigUs!, smallUs!);
      floor.add(plainBatch(shape.plain.big, shape.big.paths, i, perBatch), plainBatch(shape.plain.small, shape.small.paths, i, perBatch));
      ctx.log(`${shape.name}: 10 MB ${bigUs!.toFixed(2)} µs, 1 KB ${smallUs!.toFixed(2)} µs per change`);
      // Let timers and I/O of the runner breathe between batches.
      await new Promise((resolve) => setImmediate(resolve));
    }
    for (const c of [shape.big, shape.small]) {
      if (c.sink.messages < perBatch) throw new Error(`${shape.name}: only ${c.sink.messages} messages were sent`);
    }
    rows.push({
      bench: 'state-size',
      metric: `${shape.name}: set + patch per change, 10 MB (ours) vs 1 KB (reference)`,
      unit: 'µs',
      ...paired.summary(),
      goal: { max: 2 },
      note: `${(shape.big.bytes / 1e6).toFixed(1)} MB vs ${(shape.small.bytes / 1024).toFixed(1)} KB; a plain JS write of the leaf: ${floor.summary().ours.toFixed(2)} vs ${floor.summary().ref.toFixed(2)} µs`,
    });
    shape.big.channel.close();
    shape.small.channel.close();
  }
  return rows;
}

export const stateSize: Benchmark = { name: 'state-size', run };
