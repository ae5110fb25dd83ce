/**
 * Sessions and keyed requests across nodes, on a real redis-server: two
 * servers (in this process, and one child process for the death cases)
 * share sessions and keyed outcomes through Redis with
 * `redisSessionBackend()`.
 */
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connect, JugglerError, type Client } from '../../src/client/index.js';
import { RedisLogStore } from '../../src/cluster/redis-log-store.js';
import { redisSessionBackend, type RedisSessionOptions } from '../../src/cluster/redis-sessions.js';
import { ClusterUnavailableError, InvalidArgumentError } from '../../src/errors.js';
import { Storage, type JsonValue, type ListenOptions } from '../../src/index.js';
import { onCleanup } from '../support/cleanup.js';
import { RedisServer, useRedis } from '../support/redis-server.js';
import { startServer } from '../support/server.js';
import { deferred, waitFor, within } from '../support/wait.js';
import { freshName, openStore, rawClient } from './store-helpers.js';

const SECRET = 'a-secret-shared-by-the-nodes-0123';
const CHILD = fileURLToPath(new URL('../fixtures/session-node-child.ts', import.meta.url));

/** A handler that counts its runs and answers `result` once the test opens its gate. */
function gated(result: JsonValue) {
  const gate = deferred();
  const job = {
    runs: 0,
    open: () => gate.resolve(),
    onRequest: async () => {
      job.runs += 1;
      await gate.promise;
      return result;
    },
  };
  return job;
}

describe('sessions and keyed requests across nodes (Redis)', function () {
  this.timeout(30_000);
  const redis = useRedis();

  /** A node: a server whose sessions live in Redis under cluster `name`. */
  async function node(name: string, options: ListenOptions = {}, sessions: RedisSessionOptions = {}) {
    const store = await openStore(redis().url, { name });
    const errors: Error[] = [];
    const server = await startServer({
      state: new Storage({}),
      sessionSecret: SECRET,
      sessionBackend: redisSessionBackend(store, { keyLease: 1000, resumeTimeout: 5000, onError: (err) => errors.push(err), ...sessions }),
      ...options,
    });
    return Object.assign(server, { store, clusterErrors: errors });
  }

  async function client(url: string, session?: string | null): Promise<Client> {
    const c = await connect(url, session ? { session } : {});
    onCleanup(() => c.close());
    return c;
  }

  it('resumes a session on the other node', async () => {
    const name = freshName();
    const a = await node(name);
    const b = await node(name);
    const first = await client(a.url);
    assert.equal(first.resumed, false);
    const token = first.session!;
    first.close();
    await first.closed;
    const second = await client(b.url, token);
    assert.equal(second.resumed, true);
    assert.equal(second.session!.split('.')[0], token.split('.')[0]);
    // And a token Redis never heard of starts a new session.
    const stranger = await client(b.url, 'x'.repeat(22) + '.zzzzzzzz.c2lnbmF0dXJl');
    assert.equal(stranger.resumed, false);
  });

  it('runs a keyed request once in the cluster: the repeat on the other node gets the stored result', async () => {
    const name = freshName();
    let runs = 0;
    const onRequest = (_c: unknown, _n: string, data: JsonValue) => ({ run: ++runs, data });
    const a = await node(name, { onRequest });
    const b = await node(name, { onRequest });
    const first = await client(a.url);
    assert.deepEqual(await first.send('pay', 7, { key: 'order-7' }), { run: 1, data: 7 });
    first.close();
    const second = await client(b.url, first.session);
    assert.equal(second.resumed, true);
    assert.deepEqual(await second.send('pay', 7, { key: 'order-7' }), { run: 1, data: 7 });
    assert.deepEqual(await second.send('pay', 8, { key: 'order-8' }), { run: 2, data: 8 });
    assert.equal(runs, 2);
  });

  it('makes a repeat on another node wait while the key runs, and answers both with the one result', async () => {
    const name = freshName();
    const job = gated('done');
    const a = await node(name, { onRequest: job.onRequest, parallelRequests: true });
    const b = await node(name, { onRequest: job.onRequest, parallelRequests: true });
    const first = await client(a.url);
    const running = first.send('job', null, { key: 'k' });
    await waitFor(() => job.runs === 1, 'the handler to start');
    const second = await client(b.url, first.session);
    let repeated = false;
    const repeat = second.send('job', null, { key: 'k' }).then((v) => ((repeated = true), v));
    // Longer than a lease: the running node renews it, so the repeat keeps waiting.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(repeated, false);
    job.open();
    assert.deepEqual(await Promise.all([running, repeat]), ['done', 'done']);
    assert.equal(job.runs, 1);
  });

  it('gives the repeat the result when the first connection was cut while the handler ran', async () => {
    const name = freshName();
    const pay = gated({ paid: 1 });
    const a = await node(name, { onRequest: pay.onRequest });
    const b = await node(name, { onRequest: pay.onRequest });
    const first = await client(a.url);
    const lost = first.send('pay', null, { key: 'cut' }).catch((err: unknown) => err);
    await waitFor(() => pay.runs === 1, 'the handler to start');
    for (const conn of a.connections) conn.destroy();
    assert.ok((await lost) instanceof Error);
    pay.open();
    const second = await client(b.url, first.session);
    assert.equal(second.resumed, true);
    assert.deepEqual(await second.send('pay', null, { key: 'cut' }), { paid: 1 });
    assert.equal(pay.runs, 1);
  });

  it('answers outcome-unknown, within the bound, when the node running the key is killed (and never runs it twice)', async () => {
    const name = freshName();
    const counter = `kj-test-counter-${name}`;
    const child = fork(CHILD, [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, KJ_REDIS_URL: redis().url, KJ_CLUSTER: name, KJ_SECRET: SECRET },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    onCleanup(() => void (child.exitCode === null && child.signalCode === null && child.kill('SIGKILL')));
    const ready = deferred<number>();
    child.on('message', (m: { ready?: boolean; port?: number }) => m.ready && ready.resolve(m.port!));
    const port = await within(ready.promise, 20_000, 'the child node to listen');
    let runs = 0;
    const b = await node(name, { onRequest: () => ++runs });
    const raw = await rawClient(redis().url);

    const first = await client(`ws://127.0.0.1:${port}/ws`);
    void first.send('count', counter, { key: 'once' }).catch(() => {});
    await waitFor(async () => (await raw.get(counter)) === '1', 'the child to run the handler');
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    const died = Date.now();

    const second = await client(b.url, first.session);
    assert.equal(second.resumed, true);
    const err = await second.send('count', counter, { key: 'once' }).catch((e: unknown) => e);
    const took = Date.now() - died;
    assert.ok(err instanceof JugglerError, String(err));
    assert.deepEqual(err.data, { code: 'outcome-unknown', key: 'once' });
    assert.ok(took < 10_000, `outcome-unknown after ${took} ms`);
    // Final: asked again, still unknown; and nothing ran it a second time.
    const again = await second.send('count', counter, { key: 'once' }).catch((e: unknown) => e);
    assert.deepEqual((again as JugglerError).data, { code: 'outcome-unknown', key: 'once' });
    assert.equal(await raw.get(counter), '1');
    assert.equal(runs, 0);
  });

  it('bounds idle sessions across the cluster by maxSessions, the one idle longest first', async () => {
    const name = freshName();
    const a = await node(name, { maxSessions: 2 });
    const b = await node(name, { maxSessions: 2 });
    const raw = await rawClient(redis().url);
    const idleSet = `koa-juggler:${name}:sessions`;
    const tokens: string[] = [];
    for (const url of [a.url, b.url, a.url, b.url]) {
      const c = await client(url);
      tokens.push(c.session!);
      c.close();
      // Idle from the moment its node has recorded it so: the order of idleness is the order here.
      await waitFor(async () => (await raw.zScore(idleSet, c.session!.split('.')[0]!)) !== null, 'the session to be idle');
    }
    assert.equal(await raw.zCard(idleSet), 2);
    const idle = await raw.zRange(idleSet, 0, -1);
    assert.deepEqual(new Set(idle), new Set(tokens.slice(2).map((t) => t.split('.')[0])));
    assert.equal((await client(a.url, tokens[0])).resumed, false, 'the oldest was dropped');
    assert.equal((await client(a.url, tokens[3])).resumed, true);
  });

  it('while Redis is down: a hello with a session gets resumed: false within a second; a keyed request fails after writeTimeout', async () => {
    const own = await RedisServer.start();
    const name = freshName();
    const store = await RedisLogStore.open({ url: own.url, name, watchdog: 1000 });
    onCleanup(() => store.close());
    const errors: Error[] = [];
    let runs = 0;
    const server = await startServer({
      state: new Storage({}),
      sessionSecret: SECRET,
      sessionBackend: redisSessionBackend(store, { keyLease: 1000, writeTimeout: 1000, onError: (err) => errors.push(err) }),
      onRequest: () => ++runs,
    });
    const first = await client(server.url);
    first.close();
    await first.closed;
    await own.kill();
    await waitFor(() => !store.links.control.ready, 'the link to notice');

    const started = Date.now();
    const second = await client(server.url, first.session);
    assert.equal(second.resumed, false);
    assert.ok(Date.now() - started < 1000, `hello answered after ${Date.now() - started} ms`);

    const sent = Date.now();
    const err = await second.send('pay', null, { key: 'k' }).catch((e: unknown) => e);
    const took = Date.now() - sent;
    assert.ok(err instanceof JugglerError, String(err));
    assert.match(String(err.data), /writeTimeout/);
    assert.ok(took >= 900 && took < 3000, `failed after ${took} ms`);
    assert.ok(errors.some((e) => e instanceof ClusterUnavailableError));
    assert.equal(runs, 0, 'nothing ran without the claim');
  });

  it('refuses bad arguments with InvalidArgumentError, and a server without a shared state', async () => {
    const store = await openStore(redis().url);
    assert.throws(() => redisSessionBackend(null as never), InvalidArgumentError);
    assert.throws(() => redisSessionBackend(store, { keyLease: 0 }), (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'options.keyLease');
    assert.throws(() => redisSessionBackend(store, { maxKeys: 10 }), (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'options.maxKeys');
    await assert.rejects(startServer({ sessionBackend: redisSessionBackend(store) }), InvalidArgumentError);
  });
});
