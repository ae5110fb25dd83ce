/**
 * `listen()`: composes the Koa app (small middlewares), the HTTP or HTTPS
 * server and the WebSocket endpoint, and starts listening.
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import Koa from 'koa';
import { WebSocketServer } from 'ws';
import { EXTENSION_PROTOCOL } from '../protocol/messages.js';
import { htpasswdAuthenticator } from './auth/authenticator.js';
import { WWW_AUTHENTICATE } from './auth/challenge.js';
import { loadHtpasswd } from './auth/htpasswd.js';
import { isClientAbort } from './client-abort.js';
import { clientBundle } from './middleware/client-bundle.js';
import { requireAuth, type Authenticate } from './middleware/auth.js';
import { indexRedirect } from './middleware/index-redirect.js';
import { noCache } from './middleware/no-cache.js';
import { staticFiles } from './middleware/static-files.js';
import { wsPathAnswer } from './middleware/ws-path.js';
import { resolveOptions, type ListenOptions } from './options.js';
import { Server } from './server.js';

// ws's payload cap counts one frame; ours counts a whole message. A frame
// carries at most one message's bytes plus its one-character header.
const HEADER_BYTES = 1;

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
 * @throws Error when the htpasswd file cannot be read or has a line in an unknown format
 */
export async function listen(options: ListenOptions = {}): Promise<Server> {
  const o = resolveOptions(options);

  let authenticate: Authenticate | null = o.authenticate ?? null;
  let challenge: string | null = null;
  if (o.htpasswdFile !== null) {
    authenticate = htpasswdAuthenticator(await loadHtpasswd(o.htpasswdFile)) as Authenticate;
    challenge = WWW_AUTHENTICATE;
  }

  const app = new Koa();
  // Koa reports a failed response stream twice (the pipe, then the finished response): one line each.
  const reported = new WeakSet<Error>();
  app.on('error', (err: Error & { status?: number; expose?: boolean }, ctx?: Koa.Context) => {
    // As Koa's own handler: a client's mistake (a 404, a refused path) is answered, not reported,
    // or anyone could flood the log with one line per request; nor is a client leaving mid-download.
    if (err.status === 404 || err.expose || isClientAbort(err, ctx) || reported.has(err)) return;
    reported.add(err);
    o.onError(err, { conn: null, kind: 'http' });
  });
  if (o.noCache) app.use(noCache());
  if (authenticate !== null) app.use(requireAuth(authenticate, challenge));
  if (o.indexPath !== null) app.use(indexRedirect(o.indexPath));
  app.use(wsPathAnswer(o.wsPath));
  if (o.clientBundle) app.use(clientBundle());
  for (const middleware of o.middleware) app.use(middleware);
  if (o.staticDir !== null) app.use(staticFiles(o.staticDir));

  const http = o.tls ? createHttpsServer(o.tls, app.callback()) : createHttpServer(app.callback());
  const extensions = o.extensions;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: o.maxMessageSize + HEADER_BYTES,
    perMessageDeflate: false,
    clientTracking: false,
    // ws would select the first offered subprotocol; we select ours only when the extension is on.
    handleProtocols: (protocols) => (extensions && protocols.has(EXTENSION_PROTOCOL) ? EXTENSION_PROTOCOL : false),
  });
  const server = new Server({
    app,
    http,
    wss,
    options: o,
    guard: {
      wsPath: o.wsPath,
      originPolicy: { allowedOrigins: o.allowedOrigins, authenticated: authenticate !== null, secure: o.tls !== null },
      maxConnections: o.maxConnections,
      authenticate,
      challenge,
    },
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(o.port, o.host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  return server;
}
