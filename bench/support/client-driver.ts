/**
 * A client process for the benchmarks: many raw `ws` client sockets,
 * driven over IPC. It speaks just enough juggler to be cheap and fair to
 * both servers: it answers pings, counts messages and bytes, stamps the
 * arrival of each whole message on the shared monotonic clock, and can
 * keep N requests in flight per socket. It never parses what it receives
 * (except the one verifier socket), so its own CPU use stays small and the
 * same whichever server it talks to.
 */
import { createHash } from 'node:crypto';
import fastJsonPatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import WebSocket from 'ws';
import type { Host } from './rpc.js';
import { now, sleep } from './stats.js';

const H_LAST = 0x30; // '0'
const H_PING = 0x32; // '2'
const H_PONG = 0x33; // '3'

interface Load {
  inFlight: number;
  running: boolean;
  outstanding: number;
  nextId: number;
}

interface Sock {
  ws: WebSocket;
  /** Whole messages received. */
  messages: number;
  /** Payload bytes of all data frames received. */
  bytes: number;
  /** Arrival of the last whole message (monotonic ms). */
  lastRx: number;
  keepLast: boolean;
  lastText: string | null;
  load: Load | null;
  closed: Promise<void>;
}

/** A juggler-shaped request payload (~110 bytes of JSON), the same for both servers. */
export const REQUEST_DATA = '{"point":"p01234","value":42.5,"quality":"good","timestamp":1700000000000,"tags":["flow","north"]}';

function requestFrame(id: number): string {
  return '0{"type":"request","id":' + id + ',"name":"echo","data":' + REQUEST_DATA + '}';
}

function open(url: string, keepLast: boolean, timeout: number, deflate = false, skipUTF8Validation = false): Promise<Sock> {
  const ws = new WebSocket(url, { perMessageDeflate: deflate, handshakeTimeout: timeout, skipUTF8Validation });
  const sock: Sock = {
    ws,
    messages: 0,
    bytes: 0,
    lastRx: 0,
    keepLast,
    lastText: null,
    load: null,
    closed: new Promise((resolve) => ws.once('close', () => resolve())),
  };
  ws.on('message', (data: Buffer) => {
    const header = data[0];
    if (header === H_PING) {
      ws.send('3' + data.toString('utf8', 1));
      return;
    }
    if (header === H_PONG) return;
    sock.bytes += data.length;
    // '1': more segments follow.
    if (header !== H_LAST) return;
    sock.messages += 1;
    sock.lastRx = now();
    if (sock.keepLast) sock.lastText = data.toString();
    const load = sock.load;
    if (load !== null) {
      if (load.running) ws.send(requestFrame((load.nextId = (load.nextId + 1) | 0)));
      else load.outstanding -= 1;
    }
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.on('error', () => {});
      resolve(sock);
    });
    ws.once('error', reject);
  });
}

/** Opens `count` sockets, at most `concurrency` handshakes at a time. */
async function openMany(url: string, count: number, concurrency: number, keepLast: number, timeout: number, deflate = false, skipUTF8Validation = false): Promise<Sock[]> {
  const socks: Sock[] = new Array(count);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      socks[i] = await open(url, i < keepLast, timeout, deflate, skipUTF8Validation);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  return socks;
}

async function closeAll(socks: readonly Sock[], timeout = 10_000): Promise<void> {
  for (const s of socks) s.ws.close();
  const all = Promise.all(socks.map((s) => s.closed));
  const timedOut = await Promise.race([all.then(() => false), sleep(timeout).then(() => true)]);
  if (timedOut) for (const s of socks) s.ws.terminate();
  await Promise.race([all, sleep(2000)]);
}

/** Waits until `predicate` holds, polling; the arrival times are stamped on receipt, so polling adds no error. */
async function until(predicate: () => boolean, timeout: number, what: string): Promise<void> {
  const deadline = now() + timeout;
  while (!predicate()) {
    if (now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await sleep(2);
  }
}

/** The verifier: one socket that applies every diff, to check the server's value at the end. */
class Verifier {
  value: unknown = null;
  messages = 0;
  readonly ws: WebSocket;
  #parts: string[] = [];

  constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data: Buffer) => {
      const text = data.toString();
      if (text[0] === '2') return void ws.send('3' + text.slice(1));
      if (text[0] === '1') return void this.#parts.push(text.slice(1));
      if (text[0] !== '0') return;
      this.#parts.push(text.slice(1));
      const message = JSON.parse(this.#parts.join('')) as { type: string; diff: Operation[] };
      this.#parts = [];
      if (message.type !== 'state') return;
      this.value = fastJsonPatch.applyPatch(this.value, message.diff, false, true).newDocument;
      this.messages += 1;
    });
  }
}

export function hashJson(value: unknown): string {
  return createHash('sha1').update(JSON.stringify(value)).digest('hex');
}

/** Setup function of a client process (see worker.ts). */
export function clientDriver(host: Host): void {
  const groups = new Map<string, Sock[]>();
  const group = (tag: string): Sock[] => {
    const socks = groups.get(tag);
    if (!socks) throw new Error(`no sockets tagged ${tag}`);
    return socks;
  };
  let verifier: Verifier | null = null;

  // deflate: offer permessage-deflate (the compression row). skipUTF8Validation: for loads where ws's
  // check of every received byte would make the clients, not the server, the bottleneck (views-plant-sockets).
  host.handle('open', async (p: { tag: string; url: string; count: number; concurrency?: number; keepLast?: number; deflate?: boolean; skipUTF8Validation?: boolean }) => {
    const socks = await openMany(p.url, p.count, p.concurrency ?? 50, p.keepLast ?? 0, 30_000, p.deflate ?? false, p.skipUTF8Validation ?? false);
    groups.set(p.tag, [...(groups.get(p.tag) ?? []), ...socks]);
    return socks.length;
  });

  host.handle('close', async (p: { tag: string }) => {
    const socks = groups.get(p.tag) ?? [];
    groups.delete(p.tag);
    await closeAll(socks);
  });

  // Request/response: keep `inFlight` requests outstanding on every socket of the group.
  host.handle('loadStart', (p: { tag: string; inFlight: number }) => {
    for (const s of group(p.tag)) {
      s.load = { inFlight: p.inFlight, running: true, outstanding: p.inFlight, nextId: 0 };
      for (let i = 0; i < p.inFlight; i++) s.ws.send(requestFrame((s.load.nextId = (s.load.nextId + 1) | 0)));
    }
  });
  host.handle('loadCount', (p: { tag: string }) => {
    let count = 0;
    for (const s of group(p.tag)) count += s.messages;
    return { count, t: now() };
  });
  host.handle('loadStop', async (p: { tag: string }) => {
    const socks = group(p.tag);
    for (const s of socks) if (s.load) s.load.running = false;
    await until(() => socks.every((s) => s.load === null || s.load.outstanding === 0), 30_000, 'outstanding responses');
    for (const s of socks) s.load = null;
  });

  // Counting: totals so far, and a wait until every socket has `atLeast` whole messages.
  host.handle('counts', (p: { tag: string }) => {
    let messages = 0;
    let bytes = 0;
    let min = Infinity;
    for (const s of group(p.tag)) {
      messages += s.messages;
      bytes += s.bytes;
      if (s.messages < min) min = s.messages;
    }
    return { messages, bytes, min, sockets: group(p.tag).length };
  });
  host.handle('waitAll', async (p: { tag: string; atLeast: number; timeout?: number }) => {
    const socks = group(p.tag);
    await until(() => socks.every((s) => s.messages >= p.atLeast), p.timeout ?? 30_000, `${p.atLeast} messages on every socket`);
    let lastRx = 0;
    for (const s of socks) if (s.lastRx > lastRx) lastRx = s.lastRx;
    return { lastRx, lastText: socks[0]?.lastText ?? null };
  });

  // Join: open `count` sockets at once and stamp when each has its first whole message.
  host.handle('join', async (p: { tag: string; url: string; count: number; timeout?: number }) => {
    const started = now();
    const socks = await Promise.all(Array.from({ length: p.count }, () => open(p.url, false, 30_000)));
    groups.set(p.tag, socks);
    await until(() => socks.every((s) => s.messages >= 1), p.timeout ?? 60_000, 'the first message on every socket');
    let last = 0;
    let bytes = 0;
    for (const s of socks) {
      if (s.lastRx > last) last = s.lastRx;
      bytes += s.bytes;
    }
    return { started, last, bytes };
  });

  host.handle('verifyOpen', async (p: { url: string }) => {
    const ws = new WebSocket(p.url, { perMessageDeflate: false });
    verifier = new Verifier(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
  });
  host.handle('verifyHash', () => ({ hash: hashJson(verifier?.value ?? null), messages: verifier?.messages ?? 0 }));

  host.onExit(async () => {
    verifier?.ws.terminate();
    await Promise.all([...groups.values()].map((socks) => closeAll(socks, 2000)));
  });
}

/** Starts `processes` client processes (a few: the machine has 2 cores). */
export async function startClients(
  spawn: (module: URL, exportName: string, args: unknown, options: { name: string }) => Promise<import('./rpc.js').Worker>,
  processes: number,
): Promise<import('./rpc.js').Worker[]> {
  return Promise.all(
    Array.from({ length: processes }, (_, i) => spawn(new URL('./client-driver.ts', import.meta.url), 'clientDriver', null, { name: `clients-${i}` })),
  );
}

/** Splits `total` as evenly as possible over `parts`. */
export function split(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}
