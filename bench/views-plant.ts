/**
 * Views plant: 10,000 points in 100 sites (`{ sites: { sNN: { pNNNN:
 * { value, quality, timestamp } } } }`), 2,000 updates a second flushed
 * every 200 ms (400 updates a flush), 1,000 subscribers each viewing one
 * site (10 per site: 100 distinct views). Two rows:
 * - server CPU per second of traffic, with views vs the same channel with
 *   no views (everyone sees all, 1,000 subscribers of the whole value). Goal
 *   <= 1.0x: routing and 100 small diffs may not cost more than one big one.
 * - bytes handed to the subscribers vs the exact bytes of each view's
 *   changes (per flush and site, one `state` message with one `replace`
 *   per point changed, as each subscriber of that site must get). Goal <= 1.1x.
 *
 * In-process: StateChannels (what the server uses) with subscribers that
 * count bytes and drop them. No sockets: the no-view side would pay a
 * hundred times the socket writes of the view side on a real server, so
 * leaving them out makes the CPU ratio the views' least favourable case
 * (bench/views-plant-sockets.ts runs the same load over real sockets).
 * Windows alternate between the two sides, each side runs the same updates.
 */
import { messageEncoder, StateChannel, Storage, type EncodedMessage, type JsonValue, type StateSubscriber } from './support/lib.js';
import { Paired, prng } from './support/stats.js';
import type { BenchContext, Benchmark, Row } from './support/table.js';

/** Sites in the plant; one view per site. */
export const SITES = 100;
const PER_SITE = 100;
const RATE = 2000;
/** Milliseconds of traffic per flush (the servers' autoflushDelay in views-plant-sockets). */
export const FLUSH = 200;
const PER_FLUSH = (RATE * FLUSH) / 1000;
/** Subscribers (clients), CLIENTS / SITES per site. */
export const CLIENTS = 1000;

/** The key of site `s` (`s07`). */
export const siteKey = (s: number): string => 's' + String(s).padStart(2, '0');
const pointKey = (p: number): string => 'p' + String(p).padStart(4, '0');

/** A subscriber that counts the bytes it gets and drops them. */
class Sink implements StateSubscriber<EncodedMessage> {
  readonly extension = false;
  readonly congested = false;
  bytes = 0;
  sendEncoded(frames: EncodedMessage): void {
    for (const frame of frames) this.bytes += typeof frame === 'string' ? Buffer.byteLength(frame) : frame.byteLength;
  }
}

/** The plant's shared value: `{ sites: { sNN: { pNNNN: { value, quality, timestamp } } } }`. */
export function initialValue(): JsonValue {
  const sites: { [key: string]: JsonValue } = {};
  for (let s = 0; s < SITES; s++) {
    const points: { [key: string]: JsonValue } = {};
    for (let p = 0; p < PER_SITE; p++) points[pointKey(p)] = { value: p / 10, quality: 'good', timestamp: 1_700_000_000_000 };
    sites[siteKey(s)] = points;
  }
  return { sites };
}

/** One update of the application: a point of a site and its new value. */
export interface Update {
  site: string;
  point: string;
  value: { value: number; quality: string; timestamp: number };
}

/** The k-th update of the sequence `random` draws from: a random point of a random site. */
export function plantUpdate(random: () => number, k: number): Update {
  return {
    site: siteKey(Math.floor(random() * SITES)),
    point: pointKey(Math.floor(random() * PER_SITE)),
    value: { value: Math.round(random() * 1e6) / 100, quality: random() < 0.01 ? 'uncertain' : 'good', timestamp: 1_700_000_000_000 + k },
  };
}

/** The updates of one flush window (the same sequence for both sides). */
function windowUpdates(random: () => number, k0: number): Update[] {
  return Array.from({ length: PER_FLUSH }, (_, k) => plantUpdate(random, k0 + k));
}

/** The exact bytes every view's subscribers need for one window: per site, its last value of each point changed. */
function exactBytes(updates: readonly Update[]): number {
  const bySite = new Map<string, Map<string, Update['value']>>();
  for (const u of updates) {
    let site = bySite.get(u.site);
    if (site === undefined) bySite.set(u.site, (site = new Map()));
    site.delete(u.point);
    site.set(u.point, u.value);
  }
  let bytes = 0;
  for (const [site, points] of bySite) {
    const diff = [...points].map(([point, value]) => ({ op: 'replace', path: `/sites/${site}/${point}`, value }));
    // One segment header byte; CLIENTS / SITES subscribers per site.
    bytes += (1 + Buffer.byteLength(JSON.stringify({ type: 'state', diff }))) * (CLIENTS / SITES);
  }
  return bytes;
}

interface Side {
  storage: Storage;
  channel: StateChannel<EncodedMessage>;
  sinks: Sink[];
}

function makeSide(views: boolean): Side {
  const storage = new Storage(initialValue());
  const channel = new StateChannel(storage, { autoflushDelay: null, encode: messageEncoder({ maxSegmentSize: 65536, framing: 'segmented' }) });
  const sinks = Array.from({ length: CLIENTS }, (_, i) => {
    const sink = new Sink();
    channel.join(sink, null, views ? [['sites', siteKey(i % SITES)]] : null);
    return sink;
  });
  return { storage, channel, sinks };
}

/** Runs windows of updates, one flush each; returns CPU ms per second of traffic and the bytes handed out. */
function runWindows(side: Side, windows: readonly Update[][]): { cpuMsPerS: number; bytes: number } {
  const before = side.sinks.reduce((a, s) => a + s.bytes, 0);
  const cpu0 = process.cpuUsage();
  for (const updates of windows) {
    for (const u of updates) side.storage.set(['sites', u.site, u.point], u.value);
    side.channel.flush();
  }
  const cpu = process.cpuUsage(cpu0);
  const bytes = side.sinks.reduce((a, s) => a + s.bytes, 0) - before;
  const seconds = (windows.length * FLUSH) / 1000;
  return { cpuMsPerS: (cpu.user + cpu.system) / 1000 / seconds, bytes };
}

async function run(ctx: BenchContext): Promise<Row[]> {
  const rounds = ctx.quick ? 6 : 20;
  const perRound = ctx.quick ? 10 : 25; // windows (2 s, 5 s of traffic)
  const random = prng(11);
  const viewed = makeSide(true);
  const everyone = makeSide(false);
  const cpu = new Paired();
  const bytes = new Paired();
  let k = 0;
  for (let round = -2; round < rounds; round++) {
    const windows = Array.from({ length: perRound }, () => windowUpdates(random, (k += PER_FLUSH)));
    const order = round % 2 === 0 ? [viewed, everyone] : [everyone, viewed];
    const result = new Map(order.map((side) => [side, runWindows(side, windows)]));
    const v = result.get(viewed)!;
    const e = result.get(everyone)!;
    const exact = windows.reduce((a, w) => a + exactBytes(w), 0);
    ctx.log(`round ${round}: views ${v.cpuMsPerS.toFixed(1)} ms CPU/s, no views ${e.cpuMsPerS.toFixed(1)} ms CPU/s; bytes ${v.bytes} vs exact ${exact}`);
    await new Promise((resolve) => setImmediate(resolve));
    if (round < 0) continue; // warm-up
    cpu.add(v.cpuMsPerS, e.cpuMsPerS);
    bytes.add(v.bytes / 1024 / ((perRound * FLUSH) / 1000), exact / 1024 / ((perRound * FLUSH) / 1000));
  }
  if (JSON.stringify(viewed.storage.data) !== JSON.stringify(everyone.storage.data)) throw new Error('the two sides ran different updates');
  viewed.channel.close();
  everyone.channel.close();
  return [
    // Information: issue 13's goal is the server's CPU, which views-plant-sockets measures; this row
    // is the flush work alone, without the socket writes that views save (docs/benchmarks.md).
    { bench: 'views-plant', metric: `server CPU in-process (no sockets), ${CLIENTS} subscribers in ${SITES} site views vs the same with no views`, unit: 'ms/s', ...cpu.summary(), goal: null, note: 'the flush work alone; the server goal is views-plant-sockets' },
    { bench: 'views-plant', metric: 'bytes handed to the subscribers vs the exact bytes of each view\'s changes', unit: 'KiB/s', ...bytes.summary(), goal: { max: 1.1 } },
  ];
}

/** The in-process row (see the top of this file). */
export const viewsPlant: Benchmark = { name: 'views-plant', run };
