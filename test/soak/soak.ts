/**
 * The soak runner: many clients against two servers in child processes
 * (so the servers' heaps can be measured alone), for a while, all on
 * 127.0.0.1:
 * - "shared": one Storage for everyone, parallelRequests, autoflushDelay 20;
 * - "own": a Storage per connection, sequential requests, each change sent at once.
 * Each client loops over random actions: echo requests (some pipelined in
 * bursts), state edits (set and remove) on a small key space, requests that
 * send notifications before answering, slow requests, and now and then it
 * disconnects and connects again. Two thirds are our client
 * (src/client, the koa-juggler.v1 extension negotiated), one third a raw
 * client that counts every response frame (so a duplicate would show).
 *
 * At the end: no response lost or duplicated, notifications complete, in
 * order and ahead of their request's response, every connected client's
 * state deep-equal to the server's, and once everyone has left, each
 * server's heap back near what it was after a warm-up.
 *
 * Reproducible: the run prints its seed; SOAK_SEED replays it.
 */
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { connect, type Client } from '../../src/client/index.js';
import type { JsonValue } from '../../src/index.js';
import { applyPatch } from '../../src/state/apply-patch.js';
import { RawClient } from '../support/raw-client.js';
import { MB, retained, ServerProcess } from '../support/server-process.js';
import { prng } from '../support/prng.js';
import { delay, waitFor } from '../support/wait.js';

export interface SoakConfig {
  /** How long the clients run, in seconds. */
  seconds: number;
  /** How many clients, split over the two servers. */
  clients: number;
  /** PRNG seed; random when absent (printed, to replay a failure). */
  seed?: number;
  /** Print progress lines. */
  verbose?: boolean;
}

export interface SoakReport {
  seed: number;
  requests: number;
  responses: number;
  notifications: number;
  reconnects: number;
  /** Requests cut by a disconnect the client chose (they fail with a connection error: not lost). */
  cut: number;
  violations: string[];
  /** Each server's heap after the warm-up and after everyone left; stateBytes: its state and change records then. */
  heap: { server: string; baseline: number; final: number; stateBytes: number }[];
}

type Kind = 'shared' | 'own';

/** One client of either flavour, behind the few operations the soak needs. */
interface SoakClient {
  readonly kind: Kind;
  /** The server's number for this connection (the fixture's 'id' request). */
  connId: number;
  state(): JsonValue;
  send(name: string, data: JsonValue): Promise<JsonValue>;
  notificationsFor(tag: string): number[];
  close(): Promise<void>;
  /** Frames-level checks at the end (raw clients: duplicates, unsolicited responses). */
  audit(violations: string[]): void;
}

class OurClient implements SoakClient {
  connId = 0;
  readonly #client: Client;
  readonly #notes = new Map<string, number[]>();

  private constructor(readonly kind: Kind, client: Client, notes: Map<string, number[]>) {
    this.#client = client;
    this.#notes = notes;
  }

  static async open(kind: Kind, url: string, violations: string[]): Promise<OurClient> {
    const notes = new Map<string, number[]>();
    const client = await connect(url, {
      pingDelay: 1000,
      pingTimeout: 5000,
      onError: (err) => violations.push(`client callback error: ${String(err)}`),
      onNotify: (name, data) => {
        const { i, tag } = data as { i: number; tag: string };
        if (name !== 'n') violations.push(`unexpected notification ${name}`);
        notes.set(tag, [...(notes.get(tag) ?? []), i]);
      },
    });
    return new OurClient(kind, client, notes);
  }

  state(): JsonValue {
    return this.#client.state;
  }

  send(name: string, data: JsonValue): Promise<JsonValue> {
    return this.#client.send(name, data);
  }

  notificationsFor(tag: string): number[] {
    return this.#notes.get(tag) ?? [];
  }

  async close(): Promise<void> {
    this.#client.close();
    await this.#client.closed;
  }

  audit(): void {}
}

class WireClient implements SoakClient {
  connId = 0;
  readonly #raw: RawClient;
  #nextId = 1;
  #applied = 0;
  #state: JsonValue = null;
  readonly #pending = new Map<number, { resolve: (v: JsonValue) => void; reject: (e: Error) => void }>();
  readonly #answered = new Map<number, number>();
  #seen = 0;

  private constructor(readonly kind: Kind, raw: RawClient) {
    this.#raw = raw;
    raw.ws.on('message', () => this.#drain());
    raw.ws.on('close', () => {
      for (const { reject } of this.#pending.values()) reject(new Error('connection closed'));
      this.#pending.clear();
    });
  }

  static async open(kind: Kind, url: string): Promise<WireClient> {
    return new WireClient(kind, await RawClient.connect(url));
  }

  #drain(): void {
    const messages = this.#raw.messages;
    for (; this.#seen < messages.length; this.#seen++) {
      const m = messages[this.#seen];
      if (m.type !== 'response') continue;
      this.#answered.set(m.id, (this.#answered.get(m.id) ?? 0) + 1);
      const waiter = this.#pending.get(m.id);
      this.#pending.delete(m.id);
      if (waiter) (m.success ? waiter.resolve(m.data) : waiter.reject(new Error(String(m.data))));
    }
  }

  state(): JsonValue {
    const messages = this.#raw.messages;
    for (; this.#applied < messages.length; this.#applied++) {
      const m = messages[this.#applied];
      if (m.type === 'state') this.#state = applyPatch(this.#state, m.diff);
    }
    return this.#state;
  }

  send(name: string, data: JsonValue): Promise<JsonValue> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#raw.request(id, name, data);
    });
  }

  notificationsFor(tag: string): number[] {
    return this.#raw.messages.filter((m) => m.type === 'notify' && m.data.tag === tag).map((m) => m.data.i);
  }

  async close(): Promise<void> {
    this.#raw.close();
    await this.#raw.waitClose(10_000);
  }

  audit(violations: string[]): void {
    for (const [id, n] of this.#answered) {
      if (n > 1) violations.push(`raw client: response ${id} arrived ${n} times`);
      if (id >= this.#nextId) violations.push(`raw client: response to ${id}, never sent`);
    }
  }
}

const KEYS = 12;
const SESSION_TIMEOUT = 1000;
function randomPath(rand: () => number): string[] {
  const r = rand();
  if (r < 0.5) return [`k${Math.floor(rand() * KEYS)}`];
  if (r < 0.9) return ['grp', `g${Math.floor(rand() * 4)}`, `k${Math.floor(rand() * 4)}`];
  return ['list'];
}

function randomValue(rand: () => number): JsonValue {
  const r = rand();
  if (r < 0.3) return Math.floor(rand() * 1000);
  if (r < 0.5) return `s${Math.floor(rand() * 1e6)}`;
  if (r < 0.6) return null;
  if (r < 0.8) return { n: Math.floor(rand() * 100), tags: ['a', 'b'].slice(0, Math.floor(rand() * 3)) };
  return Array.from({ length: Math.floor(rand() * 5) }, (_, i) => i * rand());
}

export async function runSoak(config: SoakConfig): Promise<SoakReport> {
  const seed = config.seed ?? Math.floor(Math.random() * 2 ** 31);
  const rand = prng(seed);
  const log = (line: string): void => {
    if (config.verbose) console.log(`  [soak] ${line}`);
  };
  log(`seed ${seed} (SOAK_SEED=${seed} replays it), ${config.clients} clients, ${config.seconds} s`);
  const violations: string[] = [];
  const report: SoakReport = { seed, requests: 0, responses: 0, notifications: 0, reconnects: 0, cut: 0, violations, heap: [] };

  // Sessions (koa-juggler.v1) outlive their connection by sessionTimeout: short here, so the heap
  // check after everyone has left can wait them out.
  const common = { pingDelay: 1000, pingTimeout: 5000, sessionTimeout: SESSION_TIMEOUT };
  const servers: Record<Kind, ServerProcess> = {
    shared: await ServerProcess.start({ shared: {}, options: { ...common, parallelRequests: true, autoflushDelay: 20 } }),
    own: await ServerProcess.start({ options: { ...common, autoflushDelay: 0 } }),
  };

  const open = async (kind: Kind, ours: boolean): Promise<SoakClient> => {
    const client = ours ? await OurClient.open(kind, servers[kind].url, violations) : await WireClient.open(kind, servers[kind].url);
    client.connId = (await client.send('id', null)) as number;
    return client;
  };

  // One action; resolves when it is checked. `cut` tells whether a failure is expected (the client closed).
  const act = async (client: SoakClient, closing: { value: boolean }): Promise<void> => {
    const r = rand();
    const expectAnswer = async (name: string, data: JsonValue, expected: JsonValue): Promise<void> => {
      report.requests += 1;
      try {
        const answer = await client.send(name, data);
        report.responses += 1;
        if (!isDeepStrictEqual(answer, expected)) violations.push(`${name}: answered ${JSON.stringify(answer)}, expected ${JSON.stringify(expected)}`);
      } catch (err) {
        if (closing.value) report.cut += 1;
        else violations.push(`${name} failed: ${(err as Error).message}`);
      }
    };
    if (r < 0.3) {
      const data = randomValue(rand);
      await expectAnswer('echo', data, data);
    } else if (r < 0.55) {
      await expectAnswer('set', { path: randomPath(rand), value: randomValue(rand) }, null);
    } else if (r < 0.65) {
      await expectAnswer('remove', { path: randomPath(rand) }, null);
    } else if (r < 0.75) {
      const count = 1 + Math.floor(rand() * 4);
      const tag = `t${Math.floor(rand() * 1e12)}`;
      await expectAnswer('notify', { count, tag }, tag);
      if (!closing.value) {
        const got = client.notificationsFor(tag);
        report.notifications += got.length;
        // The handler awaited each notify: they must all be there, in order, before its response.
        if (!isDeepStrictEqual(got, [...Array(count).keys()])) violations.push(`notifications for ${tag}: ${JSON.stringify(got)} of ${count}`);
      }
    } else if (r < 0.85) {
      const ms = Math.floor(rand() * 20);
      await expectAnswer('sleep', ms, ms);
    } else {
      // A pipelined burst.
      const burst = Array.from({ length: 5 + Math.floor(rand() * 15) }, (_, i) => i + rand());
      await Promise.all(burst.map((v) => expectAnswer('echo', v, v)));
    }
  };

  const clients: SoakClient[] = [];
  const deadline = Date.now() + config.seconds * 1000;
  let stopped = false;

  const runner = async (index: number): Promise<void> => {
    const kind: Kind = index % 2 === 0 ? 'shared' : 'own';
    const ours = index % 3 !== 2;
    let client = await open(kind, ours);
    clients[index] = client;
    while (!stopped && Date.now() < deadline) {
      if (rand() < 0.01) {
        // Leave with requests in flight, then come back on a new connection.
        const closing = { value: true };
        const inFlight = [act(client, closing), act(client, closing)];
        await delay(rand() * 5);
        await client.close();
        await Promise.all(inFlight);
        report.reconnects += 1;
        client = await open(kind, ours);
        clients[index] = client;
        continue;
      }
      await act(client, { value: false });
      await delay(rand() * 30);
    }
  };

  // Warm-up: a short round with a few clients, then everyone leaves; the heaps after it are the baseline.
  {
    const warm = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => open(i % 2 === 0 ? 'shared' : 'own', i % 3 !== 2)));
    for (let i = 0; i < 20; i++) await Promise.all(warm.map((c) => act(c, { value: false })));
    await Promise.all(warm.map((c) => c.close()));
    for (const kind of ['shared', 'own'] as const) await waitFor(async () => (await servers[kind].connections()) === 0, 'the warm-up clients to leave', 20_000, 20);
  }
  const baseline = { shared: retained(await servers.shared.heap()), own: retained(await servers.own.heap()) };
  log(`baseline heap: shared ${(baseline.shared / MB).toFixed(1)} MB, own ${(baseline.own / MB).toFixed(1)} MB`);

  // Connect in waves, so hundreds of handshakes do not all land in the same tick.
  const runners: Promise<void>[] = [];
  for (let i = 0; i < config.clients; i++) {
    runners.push(runner(i).catch((err) => void violations.push(`client ${i} crashed: ${(err as Error).stack}`)));
    if (i % 25 === 24) await delay(20);
  }
  const progress = setInterval(() => log(`${report.requests} requests, ${report.reconnects} reconnects, ${violations.length} violations`), 5000);
  await Promise.all(runners);
  stopped = true;
  clearInterval(progress);
  log(`stopped: ${report.requests} requests, ${report.responses} responses, ${report.notifications} notifications, ${report.reconnects} reconnects`);

  // Every connected client ends with exactly the server's state.
  const [shared, own] = await Promise.all([servers.shared.state(), servers.own.state()]);
  const ownStates = new Map(own.own);
  for (const [i, client] of clients.entries()) {
    if (client === undefined) continue; // its runner crashed: already a violation
    const expected = client.kind === 'shared' ? shared.shared : ownStates.get(client.connId);
    try {
      await waitFor(() => isDeepStrictEqual(client.state(), expected), `client ${i} to match the server`, 10_000, 20);
    } catch {
      violations.push(`client ${i} (${client.kind}, conn ${client.connId}) state ${JSON.stringify(client.state())} != server ${JSON.stringify(expected)}`);
    }
    client.audit(violations);
  }

  await Promise.all(clients.filter((c) => c !== undefined).map((c) => c.close()));
  for (const kind of ['shared', 'own'] as const) {
    await waitFor(async () => (await servers[kind].connections()) === 0, `everyone to leave the ${kind} server`, 30_000, 50);
  }
  // Their sessions expire sessionTimeout later; the sweep runs every sessionTimeout / 2.
  await delay(SESSION_TIMEOUT * 2);
  for (const kind of ['shared', 'own'] as const) {
    // The shared state, and the change records its version history keeps for resumes (historySize).
    const { shared: value, logBytes } = await servers[kind].state();
    const stateBytes = JSON.stringify(value).length + logBytes;
    // Measured a few times: the lowest is what is still held (a GC can lag a figure, never lower it).
    let final = Infinity;
    for (let i = 0; i < 3; i++) final = Math.min(final, retained(await servers[kind].heap()));
    report.heap.push({ server: kind, baseline: baseline[kind], final, stateBytes });
    log(`${kind}: heap ${(baseline[kind] / MB).toFixed(1)} MB after warm-up, ${(final / MB).toFixed(1)} MB after everyone left`);
  }
  return report;
}

/** The assertions every soak run ends with. */
export function assertSoak(report: SoakReport): void {
  assert.deepEqual(report.violations.slice(0, 20), [], `soak seed ${report.seed}: ${report.violations.length} violations`);
  assert.ok(report.requests > 0 && report.responses + report.cut === report.requests, `requests ${report.requests}, responses ${report.responses}, cut ${report.cut}`);
  for (const { server, baseline, final, stateBytes } of report.heap) {
    // Near the baseline: some slack for pools and compiled code, plus the shared state that grew meanwhile.
    const allowed = 3 * MB + 4 * stateBytes;
    assert.ok(final - baseline < allowed, `${server} server: heap ${(baseline / MB).toFixed(1)} MB before, ${(final / MB).toFixed(1)} MB after (seed ${report.seed})`);
  }
}
