import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { get as httpGet, type ClientRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Middleware } from 'koa';
import { onCleanup } from '../support/cleanup.js';
import { startServer } from '../support/server.js';
import { deferred, within } from '../support/wait.js';

/** A static dir with one file far larger than the socket buffers, so that a download is still running when the client leaves. */
async function bigFileDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kj-abort-'));
  onCleanup(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'big.bin'), Buffer.alloc(32 * 1024 * 1024, 7));
  return dir;
}

/**
 * Middleware resolving `done` once a streamed response is over: its body
 * stream and the response both closed, and the turns in which Koa reports
 * a failed pipe to the app's error event have passed.
 */
function whenStreamed(done: () => void): Middleware {
  return async (ctx, next) => {
    await next();
    if (!(ctx.body instanceof Readable)) return;
    const body = ctx.body;
    const closed = (emitter: NodeJS.EventEmitter & { closed?: boolean }) =>
      emitter.closed ? Promise.resolve() : new Promise<void>((resolve) => emitter.once('close', () => resolve()));
    void Promise.all([closed(body), closed(ctx.res)])
      .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
      .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
      .then(done);
  };
}

/** Starts a download of `url` and leaves after its first chunk. */
function abortAfterFirstChunk(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req: ClientRequest = httpGet(url, { agent: false }, (res) => {
      res.once('data', (chunk: Buffer) => {
        req.destroy();
        resolve(chunk.length);
      });
    });
    req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
  });
}

describe('client aborts', () => {
  it('a download the client abandons mid-way is not reported to onError', async () => {
    const streamed = deferred();
    const server = await startServer({ staticDir: await bigFileDir(), middleware: [whenStreamed(streamed.resolve)] });
    for (let i = 0; i < 3; i++) {
      assert.ok((await abortAfterFirstChunk(`http://127.0.0.1:${server.port}/big.bin`)) > 0);
    }
    await within(streamed.promise, 5000, 'the aborted response closing');
    assert.deepEqual(
      server.errors.map(({ err, kind }) => `${kind}: ${err.message}`),
      [],
    );
  });

  it('still reports a response stream that fails while the client waits, whatever its code', async () => {
    const streamed = deferred();
    const failing: Middleware = async (ctx) => {
      ctx.type = 'application/octet-stream';
      // An upstream that resets: the same code as a client abort, but the client is still there.
      ctx.body = new Readable({
        read() {
          this.push(Buffer.alloc(1024));
          this.destroy(Object.assign(new Error('upstream reset'), { code: 'ECONNRESET' }));
        },
      });
    };
    const server = await startServer({ middleware: [whenStreamed(streamed.resolve), failing] });
    await new Promise<void>((resolve) => {
      const req = httpGet(`http://127.0.0.1:${server.port}/x`, { agent: false }, (res) => {
        res.resume();
        res.on('error', () => resolve());
        res.on('close', () => resolve());
      });
      req.on('error', () => resolve());
    });
    await within(streamed.promise, 5000, 'the failed response closing');
    assert.deepEqual(
      server.errors.map(({ err, kind }) => `${kind}: ${err.message}`),
      ['http: upstream reset'],
    );
  });
});
