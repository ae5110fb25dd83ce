import assert from 'node:assert/strict';
import { createServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { attach, InvalidArgumentError, type AttachOptions, type Server } from '../../src/index.js';
import { makePki } from '../support/cert.js';
import { onCleanup } from '../support/cleanup.js';
import { RawClient } from '../support/raw-client.js';
import { within } from '../support/wait.js';

/** Listens on 127.0.0.1, port 0; the root afterEach hook closes it. */
async function listening<T extends HttpServer>(http: T): Promise<T> {
  onCleanup(
    () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  );
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return http;
}

const portOf = (http: HttpServer): number => (http.address() as AddressInfo).port;

/** attach() with errors collected, closed after the test. */
async function attached(http: HttpServer, options: AttachOptions = {}): Promise<Server> {
  const server = await attach(http, { onError: () => {}, ...options });
  onCleanup(() => server.close());
  return server;
}

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

describe('attach()', () => {
  it('serves the WebSocket endpoint on a bare http.Server', async () => {
    const http = await listening(createServer());
    const server = await attached(http, { onRequest: (_conn, _name, data) => data });
    assert.equal(server.port, portOf(http));
    const client = await RawClient.connect(`ws://127.0.0.1:${portOf(http)}/ws`);
    client.request(1, 'echo', 'hi');
    assert.equal((await client.response(1)).data, 'hi');
    assert.equal([...server.connections].length, 1);
  });

  it('serves wss on an https server', async () => {
    const pki = await makePki();
    const http = await listening(createHttpsServer({ key: pki.key, cert: pki.cert }));
    await attached(http, { onRequest: () => 'secure' });
    const client = await RawClient.connect(`wss://127.0.0.1:${portOf(http)}/ws`, { ca: pki.ca });
    client.request(1, 'x');
    assert.equal((await client.response(1)).data, 'secure');
  });

  it("mounts the Koa app's routes inside the user's own request handler", async () => {
    const http = await listening(createServer());
    const server = await attached(http, {
      middleware: [
        async (ctx, next) => {
          if (ctx.path === '/from-koa') ctx.body = 'koa route';
          else await next();
        },
      ],
    });
    const routes = server.app.callback();
    http.on('request', (req, res) => {
      if (req.url === '/mine') res.end('user route');
      else void routes(req, res);
    });
    const port = portOf(http);
    assert.deepEqual(await get(port, '/mine'), { status: 200, body: 'user route' });
    assert.deepEqual(await get(port, '/from-koa'), { status: 200, body: 'koa route' });
    assert.equal((await get(port, '/ws')).status, 426, 'a plain GET of wsPath answered by the app');
  });

  it('leaves upgrades on other paths to another upgrade listener', async () => {
    const http = await listening(createServer());
    await attached(http, { onRequest: () => 'juggler' });
    const other = new WebSocketServer({ noServer: true });
    onCleanup(() => new Promise<void>((resolve) => other.close(() => resolve())));
    other.on('connection', (ws) => ws.on('message', (data) => ws.send(`echo ${data}`)));
    http.on('upgrade', (req, socket, head) => {
      if (req.url === '/other') other.handleUpgrade(req, socket, head, (ws) => other.emit('connection', ws, req));
    });

    const foreign = new WebSocket(`ws://127.0.0.1:${portOf(http)}/other`);
    onCleanup(() => foreign.terminate());
    const reply = new Promise<string>((resolve, reject) => {
      foreign.once('message', (data) => resolve(data.toString()));
      foreign.once('error', reject);
    });
    foreign.once('open', () => foreign.send('ping'));
    assert.equal(await within(reply, 2000, 'the other endpoint to answer'), 'echo ping');

    const client = await RawClient.connect(`ws://127.0.0.1:${portOf(http)}/ws`);
    client.request(1, 'x');
    assert.equal((await client.response(1)).data, 'juggler');
  });

  it('closes its connections with 1001 on close() and leaves the http server listening', async () => {
    const http = await listening(createServer((_req, res) => res.end('still here')));
    const server = await attached(http);
    const client = await RawClient.connect(`ws://127.0.0.1:${portOf(http)}/ws`);
    await server.close();
    assert.equal((await client.waitClose()).code, 1001);
    assert.equal(http.listening, true);
    assert.equal(http.listenerCount('upgrade'), 0, 'its upgrade listener is removed');
    assert.deepEqual(await get(portOf(http), '/'), { status: 200, body: 'still here' });
  });

  it('refuses what is not an http server, and the options listen() alone takes', async () => {
    await assert.rejects(attach(null as unknown as HttpServer), (err) => err instanceof InvalidArgumentError && /httpServer/.test(err.message));
    const http = createServer();
    for (const key of ['host', 'port', 'tls'] as const) {
      const options = { [key]: key === 'tls' ? {} : key === 'port' ? 80 : 'localhost' } as AttachOptions;
      await assert.rejects(attach(http, options), (err) => err instanceof InvalidArgumentError && err.message.includes(`options.${key}`));
    }
  });
});
