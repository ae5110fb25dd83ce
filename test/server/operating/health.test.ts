/** `health: true`: /healthz and /readyz over real HTTP, without authentication; readiness checks. */
import assert from 'node:assert/strict';
import { makeHtpasswd } from '../../support/htpasswd.js';
import { onCleanup } from '../../support/cleanup.js';
import { startServer } from '../../support/server.js';

const get = (port: number, path: string) => fetch(`http://127.0.0.1:${port}${path}`);

describe('health', () => {
  it('is off by default', async () => {
    const server = await startServer();
    assert.equal((await get(server.port, '/healthz')).status, 404);
    assert.equal((await get(server.port, '/readyz')).status, 404);
  });

  it('answers /healthz and /readyz with 200 and JSON, without credentials even when authentication is on', async () => {
    const tmp = await makeHtpasswd([{ user: 'ops', password: 'secret', format: 'bcrypt' }]);
    onCleanup(() => tmp.cleanup());
    const server = await startServer({ health: true, htpasswdFile: tmp.path });
    const alive = await get(server.port, '/healthz');
    assert.equal(alive.status, 200);
    assert.deepEqual(await alive.json(), { alive: true });
    const ready = await get(server.port, '/readyz');
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { ready: true });
    assert.equal((await get(server.port, '/index.html')).status, 401, 'other routes still need credentials');
  });

  it('runs readiness checks: 503 when one says not ready, details merged into the body', async () => {
    const server = await startServer({ health: true });
    let holdsState = false;
    const remove = server.addReadinessCheck(() => (holdsState ? { ready: true, details: { cluster: 'down' } } : { ready: false, details: { cluster: 'joining' } }));
    let res = await get(server.port, '/readyz');
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), { ready: false, cluster: 'joining' });
    holdsState = true;
    res = await get(server.port, '/readyz');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { ready: true, cluster: 'down' });
    server.addReadinessCheck(() => {
      throw new Error('check broke');
    });
    res = await get(server.port, '/readyz');
    assert.equal(res.status, 503, 'a check that throws counts as not ready');
    remove();
    assert.deepEqual(server.readiness(), { ready: false, error: 'check broke' });
  });
});
