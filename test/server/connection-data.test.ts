/** conn.data: the application's own place on each connection. */
import assert from 'node:assert/strict';
import { RawClient } from '../support/raw-client.js';
import { startServer } from '../support/server.js';

describe('conn.data', () => {
  it('starts as an empty object of its own on each connection and keeps what handlers put there', async () => {
    const server = await startServer({
      onConnection(conn) {
        assert.deepEqual(conn.data, {});
        conn.data.name = `client-${conn.request.url}`;
      },
      onRequest(conn, name) {
        conn.data.calls = ((conn.data.calls as number | undefined) ?? 0) + 1;
        return { name: conn.data.name as string, calls: conn.data.calls as number, req: name };
      },
    });
    const a = await RawClient.connect(`${server.url}?a`);
    const b = await RawClient.connect(`${server.url}?b`);
    a.request(1, 'x');
    assert.deepEqual((await a.response(1)).data, { name: 'client-/ws?a', calls: 1, req: 'x' });
    a.request(2, 'y');
    assert.deepEqual((await a.response(2)).data, { name: 'client-/ws?a', calls: 2, req: 'y' });
    b.request(1, 'z');
    assert.deepEqual((await b.response(1)).data, { name: 'client-/ws?b', calls: 1, req: 'z' });
    const names = [...server.connections].map((conn) => conn.data.name).sort();
    assert.deepEqual(names, ['client-/ws?a', 'client-/ws?b']);
  });
});
