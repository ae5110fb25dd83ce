import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { listen } from '../../src/index.js';
import { RawClient } from '../support/raw-client.js';
import { startServer } from '../support/server.js';
import { within } from '../support/wait.js';

describe('Server lifecycle', () => {
  describe('#close()', () => {
    it('closes every connection with 1001 and resolves conn.closed', async () => {
      const server = await startServer({ onRequest: () => 'x' });
      const clients = await Promise.all([1, 2, 3].map(() => RawClient.connect(server.url)));
      const conns = [...server.connections];
      await server.close();
      for (const c of clients) assert.equal((await c.waitClose()).code, 1001);
      await Promise.all(conns.map((c) => within(c.closed, 100, 'conn.closed')));
      assert.equal([...server.connections].length, 0);
      assert.ok(conns.every((c) => !c.isOpen));
    });

    it('ends in-flight requests: their clients see the close, nothing hangs', async () => {
      const server = await startServer({ parallelRequests: true, onRequest: () => new Promise(() => {}) });
      const client = await RawClient.connect(server.url);
      client.request(1, 'never');
      client.request(2, 'never');
      await within(server.close(), 2000, 'server.close()');
      assert.equal((await client.waitClose()).code, 1001);
    });

    it('destroys connections that do not finish closing within shutdownTimeout', async () => {
      const server = await startServer({ shutdownTimeout: 50 });
      const client = await RawClient.connect(server.url);
      // A peer that never answers the close frame.
      (client.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      const started = Date.now();
      await within(server.close(), 2000, 'server.close()');
      assert.ok(Date.now() - started < 1000);
    });

    it('does not throw if called twice, and refuses new connections', async () => {
      const server = await listen({ port: 0, onError: () => {} });
      const url = `ws://127.0.0.1:${server.port}/ws`;
      const first = server.close();
      assert.equal(server.close(), first);
      await first;
      await assert.rejects(RawClient.connect(url));
    });

    it('leaves nothing behind: a script that listens, serves and closes exits by itself', async () => {
      const script = fileURLToPath(new URL('../fixtures/listen-serve-close.ts', import.meta.url));
      const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      const code = await within(new Promise<number | null>((resolve) => child.on('exit', resolve)), 15000, 'the script to exit').catch((err) => {
        child.kill('SIGKILL');
        throw err;
      });
      assert.equal(code, 0);
      assert.match(out, /closed 1001/);
    });
  });

  describe('conn.close()', () => {
    it('closes with an application code and reason, and refuses reserved codes', async () => {
      const server = await startServer({
        onRequest(conn, name) {
          if (name === 'bad') conn.close(1006);
          conn.close(4001, 'go away');
          return null;
        },
      });
      const client = await RawClient.connect(server.url);
      client.request(1, 'bad');
      const failed = await client.response(1);
      assert.match(failed.data, /code must be 1000 or an integer from 4000 to 4999/);
      client.request(2, 'ok');
      assert.deepEqual(await client.waitClose(), { code: 4001, reason: 'go away' });
    });
  });

  it('rejects bad options with an error naming the option', async () => {
    await assert.rejects(listen({ port: -1 }), { name: 'InvalidArgumentError', message: /options\.port/ });
    await assert.rejects(listen({ autoflushDelay: -5 }), /options\.autoflushDelay/);
    await assert.rejects(listen({ wsPath: 'ws' }), /options\.wsPath must be a URL path/);
    await assert.rejects(listen({ framing: 'json' as never }), /options\.framing/);
    await assert.rejects(listen({ prot: 1 } as never), /options\.prot must be a known option/);
  });
});
