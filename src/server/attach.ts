/**
 * `attach()`: koa-juggler on an HTTP(S) server the user already has. Its
 * upgrades on `wsPath` become juggler connections; its HTTP routes stay the
 * user's, who mounts ours through `server.app.callback()`. `listen()` is
 * this on a server of its own.
 */
import type { Server as HttpServer } from 'node:http';
import { Server as TlsServer } from 'node:tls';
import Koa from 'koa';
import { WebSocketServer } from 'ws';
import { InvalidArgumentError } from '../errors.js';
import { EXTENSION_PROTOCOL } from '../protocol/messages.js';
import { AdminPage } from './admin/admin-page.js';
import { boundAddress, HostPolicy } from './allowed-hosts.js';
import { htpasswdAuthenticator } from './auth/authenticator.js';
import { WWW_AUTHENTICATE } from './auth/challenge.js';
import { loadHtpasswd } from './auth/htpasswd.js';
import { isClientAbort } from './client-abort.js';
import { ServerMetrics } from './metrics/server-metrics.js';
import { clientBundle } from './middleware/client-bundle.js';
import { healthRoutes } from './middleware/health.js';
import { metricsRoute } from './middleware/metrics.js';
import { requireAuth, type Authenticate } from './middleware/auth.js';
import { indexRedirect } from './middleware/index-redirect.js';
import { noCache } from './middleware/no-cache.js';
import { staticFiles } from './middleware/static-files.js';
import { wsPathAnswer } from './middleware/ws-path.js';
import { resolveOptions, type ListenOptions, type ResolvedOptions } from './options.js';
import { Server } from './server.js';
import type { ApiMap, UntypedApi } from '../protocol/api-map.js';

/** The options of {@link attach}: those of `listen()` but `host`, `port` and `tls` (the HTTP server has them). */
export type AttachOptions<Api = UntypedApi> = Omit<ListenOptions<Api>, 'host' | 'port' | 'tls'>;

// ws's payload cap counts one frame; ours counts a whole message. A frame
// carries at most one message's bytes plus its one-character header.
const HEADER_BYTES = 1;

const LISTEN_ONLY = ['host', 'port', 'tls'] as const;

/**
 * Attaches a juggler server to an existing `http` or `https` server. Its
 * upgrade requests on `wsPath` are ours; upgrades on other paths are left
 * to its other `upgrade` listeners (another WebSocket server, say). The
 * HTTP routes (static files, the client bundle, the 426 answer on
 * `wsPath`, the user's middleware) are in `server.app`: mount
 * `server.app.callback()` where the application wants them.
 * `server.close()` closes the juggler connections and removes the upgrade
 * listener, and leaves the HTTP server open.
 *
 * @example
 * const http = createServer();
 * const juggler = await attach(http, { state, onRequest: (conn, name, data) => data });
 * const routes = juggler.app.callback();
 * http.on('request', (req, res) => (req.url === '/health' ? res.end('ok') : routes(req, res)));
 * http.listen(8080);
 * @throws InvalidArgumentError when `httpServer` is not an HTTP server, for `host`, `port` or `tls`, or for a bad option
 * @throws Error when the htpasswd file cannot be read or has a line in an unknown format
 */
export function attach<Api extends ApiMap = UntypedApi>(httpServer: HttpServer, options?: AttachOptions<Api>): Promise<Server<Api>>;
export async function attach(httpServer: HttpServer, options: AttachOptions = {}): Promise<Server> {
  if (httpServer === null || typeof httpServer !== 'object' || typeof httpServer.on !== 'function' || typeof httpServer.address !== 'function') {
    throw new InvalidArgumentError('httpServer', 'an http or https server', httpServer);
  }
  const o = resolveOptions(options as ListenOptions);
  for (const key of LISTEN_ONLY) {
    if ((options as ListenOptions)[key] !== undefined) {
      throw new InvalidArgumentError(`options.${key}`, 'left out (attach() uses the HTTP server it is given)');
    }
  }
  return mount(httpServer, o, { ownsHttp: false, secure: httpServer instanceof TlsServer });
}

/**
 * @internal builds the Koa app, the WebSocket endpoint and the Server on
 * `http` (what listen() and attach() share).
 */
export async function mount(http: HttpServer, o: ResolvedOptions, how: { ownsHttp: boolean; secure: boolean }): Promise<Server> {
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
  const hosts = new HostPolicy(o.allowedHosts, () => boundAddress(http));
  app.use(hosts.middleware());
  const metrics = o.operating.metrics ? new ServerMetrics() : null;
  // Set below; the routes that read it run only once the app serves, after that.
  let server: Server | null = null;
  if (o.noCache) app.use(noCache());
  // Probes stay open: load balancers carry no credentials, and the answers reveal nothing else.
  if (o.operating.health) app.use(healthRoutes(() => server!.readiness()));
  if (authenticate !== null) app.use(requireAuth(authenticate, challenge));
  if (metrics !== null) app.use(metricsRoute(metrics.registry));
  if (o.indexPath !== null) app.use(indexRedirect(o.indexPath));
  const admin = o.admin === null ? null : new AdminPage(o.admin);
  if (admin !== null) app.use(admin.middleware());
  app.use(wsPathAnswer(o.wsPath));
  if (o.clientBundle) app.use(clientBundle());
  for (const middleware of o.middleware) app.use(middleware);
  if (o.staticDir !== null) app.use(staticFiles(o.staticDir));

  const extensions = o.extensions;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: o.maxMessageSize + HEADER_BYTES,
    perMessageDeflate: o.operating.compression === null ? false : { threshold: o.operating.compression.threshold },
    clientTracking: false,
    // ws would select the first offered subprotocol; we select ours only when the extension is on.
    handleProtocols: (protocols) => (extensions && protocols.has(EXTENSION_PROTOCOL) ? EXTENSION_PROTOCOL : false),
  });
  server = new Server({
    app,
    metrics,
    http,
    wss,
    options: o,
    ownsHttp: how.ownsHttp,
    admin,
    guard: {
      wsPath: o.wsPath,
      hosts,
      originPolicy: { allowedOrigins: o.allowedOrigins, authenticated: authenticate !== null, secure: how.secure },
      maxConnections: o.maxConnections,
      authenticate,
      challenge,
    },
  });
  return server;
}
