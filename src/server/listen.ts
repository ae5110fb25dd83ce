/**
 * `listen()`: a juggler server on an HTTP or HTTPS server of its own, which
 * serves the Koa app's routes and listens on `host` and `port`.
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { mount } from './attach.js';
import { resolveOptions, type ListenOptions } from './options.js';
import type { Server } from './server.js';
import type { ApiMap, UntypedApi } from '../protocol/api-map.js';

/**
 * Starts a juggler server.
 *
 * @example
 * const server = await listen({
 *   port: 8080,
 *   staticDir: 'static',
 *   state: new Storage({ count: 0 }),
 *   onRequest(conn, name, data) {
 *     if (name === 'increment') conn.state.set('count', (conn.state.get('count') as number) + 1);
 *     return null;
 *   },
 * });
 * @throws InvalidArgumentError for a bad option (the message names it)
 * @throws Error when the htpasswd file cannot be read or has a line in an unknown format, or the port is taken
 */
export function listen<Api extends ApiMap = UntypedApi>(options?: ListenOptions<Api>): Promise<Server<Api>>;
export async function listen(options: ListenOptions = {}): Promise<Server> {
  const o = resolveOptions(options);
  const http: HttpServer = o.tls ? createHttpsServer(o.tls) : createHttpServer();
  const server = await mount(http, o, { ownsHttp: true, secure: o.tls !== null });
  http.on('request', server.app.callback());
  try {
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(o.port, o.host, () => {
        http.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    // The port was taken (or the host is not ours): release the session timer and channels made.
    await server.close();
    throw err;
  }
  return server;
}
