/**
 * Authentication secrets: only hashes are kept. The loaded htpasswd file and
 * the authenticator's cache are walked through the inspector (private
 * fields, Map entries and closure variables included) and hold no password
 * and no Authorization header; a whole server process, after serving
 * authenticated requests and WebSocket connections, has no trace of them in
 * its heap snapshot. A wrong password costs the same whether or not the
 * user exists.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { htpasswdAuthenticator } from '../../src/server/auth/authenticator.js';
import { loadHtpasswd } from '../../src/server/auth/htpasswd.js';
import { onCleanup } from '../support/cleanup.js';
import { makeHtpasswd, type HtpasswdEntry } from '../support/htpasswd.js';
import { RawClient } from '../support/raw-client.js';
import { ServerProcess } from '../support/server-process.js';
import { startServer } from '../support/server.js';
import { waitFor } from '../support/wait.js';

const secret = (label: string) => `${label}${randomBytes(9).toString('hex')}`;
const basic = (user: string, password: string) => 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');

interface Remote {
  type: string;
  subtype?: string;
  value?: unknown;
  objectId?: string;
  description?: string;
}
// privateProperties is in the inspector protocol, not yet in the return type @types/node gives.
type Properties = { result: { name: string; value?: Remote }[]; privateProperties?: { name: string; value?: Remote }[]; internalProperties?: { name: string; value?: Remote }[] };

/**
 * Every string reachable from `root` (values and property names), through
 * own and private properties, Map and Set entries, and for a function its
 * closure variables; not through prototypes or other functions.
 */
async function reachableStrings(root: unknown): Promise<string[]> {
  const session = new Session();
  session.connect();
  const key = `__kjInspect${randomBytes(4).toString('hex')}`;
  (globalThis as Record<string, unknown>)[key] = root;
  try {
    const { result } = await session.post('Runtime.evaluate', { expression: `globalThis.${key}` });
    const strings: string[] = [];
    const seen = new Set<string>();
    let budget = 20_000;
    const visit = async (objectId: string, isRoot: boolean): Promise<void> => {
      if (seen.has(objectId) || --budget < 0) return;
      seen.add(objectId);
      const props: Properties = await session.post('Runtime.getProperties', { objectId, ownProperties: true });
      const values: { name: string; value?: Remote }[] = [
        ...props.result,
        ...(props.privateProperties ?? []),
        ...(props.internalProperties ?? []).filter((p) => ['[[Entries]]', '[[Scopes]]', '[[Target]]'].includes(p.name) || /^\d+$/.test(p.name)),
      ];
      for (const { name, value } of values) {
        strings.push(name);
        if (value === undefined) continue;
        if (value.type === 'string') strings.push(value.value as string);
        if (value.objectId === undefined || value.subtype === 'typedarray' || value.subtype === 'arraybuffer') continue;
        if (value.type !== 'object' && !(value.type === 'function' && isRoot)) continue;
        // The scopes of the function that made the closure ("Closure (name)", "Block (name)");
        // not the module's and the global one, which are everybody's.
        if (value.subtype === 'internal#scope' && !/^(Closure|Block) \(/.test(value.description ?? '')) continue;
        await visit(value.objectId, isRoot && (name === '[[Scopes]]' || value.subtype === 'internal#scope'));
      }
    };
    if (result.objectId) await visit(result.objectId, true);
    assert.ok(budget > 0, 'the walk stayed within its budget');
    return strings;
  } finally {
    delete (globalThis as Record<string, unknown>)[key];
    session.disconnect();
  }
}

describe('authentication secrets', function () {
  this.timeout(60_000);

  it('keeps nothing but hashes in the loaded file and the authenticator cache', async () => {
    const entries: HtpasswdEntry[] = [
      { user: 'alice', password: secret('pw-bcrypt-'), format: 'bcrypt' },
      { user: 'bob', password: secret('pw-apr1-'), format: 'apr1' },
      { user: 'carol', password: secret('pw-sha-'), format: 'sha' },
    ];
    const tmp = await makeHtpasswd(entries);
    onCleanup(() => tmp.cleanup());
    const hashes = (await readFile(tmp.path, 'utf8')).trim().split('\n').map((line) => line.slice(line.indexOf(':') + 1));
    const file = await loadHtpasswd(tmp.path);
    const authenticate = htpasswdAuthenticator(file);
    // Right and wrong passwords, known and unknown users: the cache fills with the right ones.
    for (const { user, password } of entries) {
      assert.equal(await authenticate({ headers: { authorization: basic(user, password) } }), user);
      assert.equal(await authenticate({ headers: { authorization: basic(user, password + 'x') } }), null);
      assert.equal(await authenticate({ headers: { authorization: basic(user + 'x', password) } }), null);
    }
    const fileStrings = await reachableStrings(file);
    const cacheStrings = await reachableStrings(authenticate);
    // The walks do reach the data: the user names and the file's hashes are there.
    for (const user of ['alice', 'bob', 'carol']) assert.ok(fileStrings.includes(user) && cacheStrings.includes(user), user);
    for (const hash of hashes.filter((h) => !h.startsWith('{SHA}'))) assert.ok(fileStrings.includes(hash), 'the hash is kept');
    for (const { password, user } of entries) {
      const forms = [password, Buffer.from(`${user}:${password}`).toString('base64'), basic(user, password)];
      for (const s of [...fileStrings, ...cacheStrings]) {
        for (const form of forms) assert.ok(!s.includes(form), `a password of ${user} is kept in memory`);
      }
    }
  });

  it('leaves no password and no Authorization header anywhere in a server process after serving them', async () => {
    const users = ['alice', 'bob'].map((user) => ({ user, password: secret(`${user}-pw-`), format: 'bcrypt' as const }));
    const tmp = await makeHtpasswd(users);
    onCleanup(() => tmp.cleanup());
    const server = await ServerProcess.start({ options: { htpasswdFile: tmp.path, indexPath: null } });
    const base = `http://127.0.0.1:${server.port}`;
    for (const { user, password } of users) {
      assert.equal((await fetch(`${base}/nothing`, { headers: { authorization: basic(user, password), connection: 'close' } })).status, 404);
      assert.equal((await fetch(`${base}/nothing`, { headers: { authorization: basic(user, password + '!'), connection: 'close' } })).status, 401);
      const client = await RawClient.connect(server.url, { headers: { authorization: basic(user, password) } });
      client.request(1, 'echo', 'hi');
      await client.response(1);
      client.close();
      await client.waitClose();
    }
    await waitFor(async () => (await server.connections()) === 0, 'the connections to close');
    const path = join(tmpdir(), `kj-heap-${process.pid}-${Date.now()}.heapsnapshot`);
    onCleanup(() => rm(path, { force: true }));
    await server.command('snapshot', path, 60_000);
    const snapshot = await readFile(path, 'utf8');
    // The snapshot does hold the strings of the server's structures: the user names and their hashes.
    assert.ok(snapshot.includes('"alice"') && snapshot.includes('"bob"'), 'the snapshot has the user names');
    for (const { user, password } of users) {
      for (const form of [password, Buffer.from(`${user}:${password}`).toString('base64')]) {
        assert.ok(!snapshot.includes(form), `the server process still holds a credential of ${user}`);
      }
    }
  });

  it('spends the same on a wrong password whether or not the user exists', async () => {
    const users: HtpasswdEntry[] = ['a', 'b', 'c'].map((user) => ({ user, password: secret('pw'), format: 'bcrypt', cost: 8 }));
    const tmp = await makeHtpasswd(users);
    onCleanup(() => tmp.cleanup());
    const server = await startServer({ htpasswdFile: tmp.path, indexPath: null });
    const url = `http://127.0.0.1:${server.port}/x`;
    const time = async (authorization: string): Promise<number> => {
      const started = performance.now();
      const res = await fetch(url, { headers: { authorization } });
      assert.equal(res.status, 401);
      return performance.now() - started;
    };
    const known: number[] = [];
    const unknown: number[] = [];
    // Interleaved, so load on the machine hits both alike; medians, so one stall does not decide.
    for (let i = 0; i < 11; i++) {
      known.push(await time(basic('a', `wrong${i}`)));
      unknown.push(await time(basic(`nobody${i}`, `wrong${i}`)));
    }
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    const ratio = median(unknown) / median(known);
    // Without the dummy verification an unknown user would answer in well under a tenth of the time.
    assert.ok(ratio > 0.5 && ratio < 2, `unknown user ${median(unknown).toFixed(1)} ms, wrong password ${median(known).toFixed(1)} ms`);
  });
});
