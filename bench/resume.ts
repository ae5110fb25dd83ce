/**
 * Resume: a client comes back to a 10 MB shared state after 10 one-leaf
 * changes. Ours resumed (koa-juggler.v1 `hello` with its session and last
 * version: one diff) against the same client joining fresh (the whole
 * value), both on our server in one run: bytes received and time from
 * `open` until the client has the current value.
 *
 * The server runs in its own process; the client here speaks the
 * extension by hand over `ws`, counting the bytes of every frame, and
 * applies what it gets with our client's patch applier, so "has the value"
 * includes the work a real client does.
 */
import WebSocket from 'ws';
import { applyPatch, listen, Storage, type JsonValue } from './support/lib.js';
import { BIG_SIDE, groupKey, pointKey, twoLevel } from './support/data.js';
import type { Host, Worker } from './support/rpc.js';
import { bounded, now, Paired } from './support/stats.js';
import type { BenchContext, Benchmark, Row } from './support/table.js';

const HERE = new URL(import.meta.url);
const CHANGES = 10;

export async function resumeServer(host: Host): Promise<{ url: string }> {
  const storage = new Storage(twoLevel(BIG_SIDE, BIG_SIDE));
  // autoflush 0: every change is a version the history remembers, as a busy server's would be.
  const server = await listen({ host: '127.0.0.1', port: 0, state: storage, autoflushDelay: 0, historySize: 64 });
  let n = 0;
  host.handle('change', ({ count }: { count: number }) => {
    for (let i = 0; i < count; i++, n++) storage.set([groupKey(n % BIG_SIDE), pointKey((n * 13) % BIG_SIDE), 'value'], n + 0.25);
    return null;
  });
  host.onExit(() => server.close());
  return { url: `ws://127.0.0.1:${server.port}/ws` };
}

interface Visit {
  session: string;
  version: string | null;
  state: JsonValue;
  bytes: number;
  ms: number;
}

/** One connection: hello, then read until the state is current (a state message, or none for the current version). */
function visit(url: string, hello: { session?: string; version?: string }, state: JsonValue, expectState: boolean): Promise<Visit> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['koa-juggler.v1'], { perMessageDeflate: false });
    let started = 0;
    let bytes = 0;
    let session = '';
    let version: string | null = hello.version ?? null;
    const parts: string[] = [];
    const done = () => {
      const ms = now() - started;
      ws.close();
      resolve({ session, version, state, bytes, ms });
    };
    ws.on('error', reject);
    ws.on('open', () => {
      started = now();
      ws.send('0' + JSON.stringify({ type: 'hello', ...hello }));
    });
    ws.on('message', (data: Buffer) => {
      bytes += data.length;
      const text = data.toString();
      if (text[0] === '1') return void parts.push(text.slice(1));
      if (text[0] !== '0') return;
      parts.push(text.slice(1));
      const message = JSON.parse(parts.join(''));
      parts.length = 0;
      if (message.type === 'welcome') {
        session = message.session;
        if (!expectState) done();
      } else if (message.type === 'state') {
        state = applyPatch(state, message.diff);
        version = message.version;
        done();
      }
    });
  });
}

async function run(ctx: BenchContext): Promise<Row[]> {
  const rounds = ctx.quick ? 3 : 8;
  const server: Worker<{ url: string }> = await ctx.spawn(HERE, 'resumeServer', null, { name: 'resume-server' });
  const { url } = server.info;
  const time = new Paired();
  const bytes = new Paired();
  let first = await bounded(visit(url, {}, null, true), 60_000, 'the first join');
  for (let round = 0; round < rounds + 1; round++) {
    await server.call('change', { count: CHANGES });
    const resumed = await bounded(visit(url, { session: first.session, version: first.version! }, first.state, true), 60_000, 'a resume');
    await server.call('change', { count: 0 });
    const fresh = await bounded(visit(url, {}, null, true), 60_000, 'a fresh join');
    if (JSON.stringify(resumed.state) !== JSON.stringify(fresh.state)) throw new Error('the resumed state differs from the fresh one');
    ctx.log(`round ${round}: resumed ${resumed.bytes} B in ${resumed.ms.toFixed(1)} ms, fresh ${fresh.bytes} B in ${fresh.ms.toFixed(1)} ms`);
    first = resumed;
    if (round === 0) continue; // warm-up
    time.add(resumed.ms, fresh.ms);
    bytes.add(resumed.bytes, fresh.bytes);
  }
  return [
    { bench: 'resume', metric: `back to a 10 MB state after ${CHANGES} one-leaf changes: bytes`, unit: 'B', ...bytes.summary(), goal: null, note: 'resumed vs joining fresh' },
    { bench: 'resume', metric: `back to a 10 MB state after ${CHANGES} one-leaf changes: time to current`, unit: 'ms', ...time.summary(), goal: null, note: 'resumed vs joining fresh' },
  ];
}

export const resume: Benchmark = { name: 'resume', run };
