/**
 * Resume on a node that is behind the client's version (docs/cluster.md,
 * "Resume on any node"): the node waits, up to `resumeWait`, for its reader
 * to apply that version, then sends one diff; past the bound, the whole
 * value under its own version, never an older value under a newer one.
 * And on a node started after the version was sent: one diff while the
 * version is younger than `retention`, the whole value after.
 */
import assert from 'node:assert/strict';
import { EXTENSION_PROTOCOL } from '../../src/protocol/messages.js';
import { RawClient } from '../support/raw-client.js';
import { useRedis } from '../support/redis-server.js';
import { delay, waitFor } from '../support/wait.js';
import { freshName, node, serve } from './cluster-helpers.js';

async function resumeFrom(port: number, version: string): Promise<RawClient> {
  const client = await RawClient.connect(`ws://127.0.0.1:${port}/ws`, { protocols: [EXTENSION_PROTOCOL] });
  client.send({ type: 'hello', session: null, version });
  return client;
}

describe('resume on a node behind the client', function () {
  this.timeout(30_000);
  const redis = useRedis();

  /** Nodes a and b, b's reader held back after the initial value, a one write ahead. */
  async function behind(resumeWait: number) {
    const name = freshName();
    const big: Record<string, number> = {};
    for (let i = 0; i < 200; i++) big[`k${i}`] = i;
    const a = await node(redis().url, name, { initial: big });
    const b = await node(redis().url, name, { resumeWait });
    const [epoch, seq] = b.version.split('.') as [string, string];
    b.store.stopFollowing();
    await a.state.set('k1', -1);
    return { a, b, server: await serve(b), release: () => b.store.follow(epoch, Number(seq)) };
  }

  it('waits for its reader, then sends one diff from the version, not the whole value', async () => {
    const { a, b, server, release } = await behind(5000);
    const client = await resumeFrom(server.port, a.version);
    await delay(300);
    assert.equal(client.messages.filter((m) => m.type === 'state').length, 0, 'no state before b applied the version');
    release();
    await waitFor(() => b.version === a.version, 'b to catch up');
    await b.state.set('k2', -2);
    const first = await client.next((m) => m.type === 'state');
    assert.deepEqual(first.diff, [{ op: 'replace', path: '/k2', value: -2 }]);
    assert.equal(first.version, b.version);
  });

  it('past resumeWait, sends the whole value under its own version', async () => {
    const { a, b, server } = await behind(300);
    const started = Date.now();
    const client = await resumeFrom(server.port, a.version);
    const first = await client.next((m) => m.type === 'state');
    const took = Date.now() - started;
    assert.ok(took >= 250 && took < 3000, `the whole value after ${took} ms`);
    assert.equal(first.version, b.version);
    assert.notEqual(first.version, a.version);
    assert.deepEqual(first.diff, [{ op: 'replace', path: '', value: b.state.data }]);
  });
});

describe('resume on a node started after the version was sent', function () {
  this.timeout(30_000);
  const redis = useRedis();

  /** Node a with a client's version after `k1`, then two more writes, then node b started. */
  async function startedLater(retention: number, pause = 0) {
    const name = freshName();
    const big: Record<string, number> = {};
    for (let i = 0; i < 200; i++) big[`k${i}`] = i;
    const a = await node(redis().url, name, { initial: big, retention });
    await a.state.set('k1', -1);
    const version = a.version;
    await a.state.set('k2', -2);
    await a.state.set(['k3'], -3);
    await delay(pause);
    const b = await node(redis().url, name, { retention });
    return { a, b, version, server: await serve(b) };
  }

  it('within retention: b holds the entries since, and sends one diff from the version', async () => {
    const { a, b, version, server } = await startedLater(60_000);
    assert.equal(b.version, a.version, 'redisCluster() resolved with b at the head');
    assert.deepEqual(b.state.data, a.state.data);
    const client = await resumeFrom(server.port, version);
    const first = await client.next((m) => m.type === 'state');
    assert.deepEqual(first.diff, [
      { op: 'replace', path: '/k2', value: -2 },
      { op: 'replace', path: '/k3', value: -3 },
    ]);
    assert.equal(first.version, b.version);
  });

  it('older than retention: the whole value under b\'s version', async () => {
    const { b, version, server } = await startedLater(300, 500);
    const client = await resumeFrom(server.port, version);
    const first = await client.next((m) => m.type === 'state');
    assert.equal(first.version, b.version);
    assert.deepEqual(first.diff, [{ op: 'replace', path: '', value: b.state.data }]);
  });
});
