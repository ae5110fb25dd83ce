/**
 * The admin page at `/_admin/` (README, "Operating it"): static files from
 * the package's `static-admin/` folder (plain ES modules, no build step)
 * and a small JSON API polled by the page, plus one event stream of the
 * diffs. Served only to loopback sockets (the socket's own address:
 * forwarding headers never count) or, with `authorize`, to authenticated
 * users it accepts. Costs nothing while nobody looks: everything is
 * computed when asked, and the diff stream joins the state channel only
 * while a page listens.
 */
import { readFile } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import type Koa from 'koa';
import type { JsonValue } from '../../json.js';
import { isLoopbackAddress } from '../allowed-hosts.js';
import type { AdminSources } from './admin-sources.js';
import { stateLevel } from './admin-sources.js';
import { DiffTap } from './diff-tap.js';

/** Where the page lives. */
export const ADMIN_PATH = '/_admin';

const ASSETS_DIR = new URL('../../../static-admin/', import.meta.url);
const ASSETS: Record<string, [file: string, type: string]> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/admin.js': ['admin.js', 'text/javascript; charset=utf-8'],
  '/admin.css': ['admin.css', 'text/css; charset=utf-8'],
};
/** Event stream comments keep proxies from timing the stream out. */
const KEEPALIVE_MS = 15_000;

/** The resolved `admin` option. */
export interface AdminConfig {
  /** null: loopback sockets only. */
  authorize: ((user: string) => boolean | Promise<boolean>) | null;
}

/**
 * The admin page: a Koa middleware mounted after authentication, fed by the
 * server once it exists ({@link AdminPage.attach}).
 */
export class AdminPage {
  readonly #config: AdminConfig;
  #sources: AdminSources | null = null;
  #tap: DiffTap | null = null;
  readonly #streams = new Set<PassThrough>();
  readonly #started = Date.now();

  constructor(config: AdminConfig) {
    this.#config = config;
  }

  /** The server's internals, given once it is built. */
  attach(sources: AdminSources): void {
    this.#sources = sources;
    this.#tap = sources.sharedChannel ? new DiffTap(sources.sharedChannel) : null;
  }

  /** Ends every open diff stream (the server is closing). */
  close(): void {
    for (const stream of this.#streams) stream.end();
    this.#streams.clear();
  }

  /** Koa middleware for everything under `/_admin`. */
  middleware(): Koa.Middleware {
    return async (ctx, next) => {
      if (ctx.path !== ADMIN_PATH && !ctx.path.startsWith(ADMIN_PATH + '/')) return next();
      if (!(await this.#allowed(ctx))) {
        ctx.status = 403;
        ctx.body = 'the admin page is not served to you\n';
        return;
      }
      if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
        ctx.status = 405;
        return;
      }
      const rest = ctx.path.slice(ADMIN_PATH.length);
      if (rest === '') return ctx.redirect(ADMIN_PATH + '/');
      // The page must not be framed by another site (clickjacking a live operator view).
      ctx.set('X-Frame-Options', 'DENY');
      ctx.set('Content-Security-Policy', "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
      const asset = ASSETS[rest];
      if (asset) {
        ctx.type = asset[1];
        ctx.body = await readFile(new URL(asset[0], ASSETS_DIR));
        return;
      }
      if (rest === '/api/overview') return void (ctx.body = await this.overview());
      if (rest === '/api/state') return this.#state(ctx);
      if (rest === '/api/diffs') return this.#diffs(ctx);
      ctx.status = 404;
    };
  }

  async #allowed(ctx: Koa.Context): Promise<boolean> {
    const { authorize } = this.#config;
    if (authorize === null) return isLoopbackAddress(ctx.req.socket.remoteAddress ?? '');
    const user = ctx.state.user as string | undefined;
    return typeof user === 'string' && (await authorize(user)) === true;
  }

  /** Everything the page shows but the state and the diffs, computed now. */
  async overview(): Promise<JsonValue> {
    const s = this.#sources!;
    const connections = [...s.connections()].map((conn) => {
      const stats = conn.stats;
      return {
        remote: conn.remote,
        user: conn.user,
        kind: conn.extension ? 'extension' : 'plain',
        session: conn.session,
        queued: stats.queued,
        bytesIn: stats.bytesIn,
        bytesOut: stats.bytesOut,
        buffered: conn.incoming.held,
      };
    });
    const sessions = s.sessions?.list ? [...s.sessions.list()].map((session) => ({ id: session.id, connections: session.connections, idleSince: session.idleSince || null })) : null;
    const channel = s.sharedChannel;
    return {
      time: Date.now(),
      uptime: Date.now() - this.#started,
      connections,
      sessions,
      counters: { requests: s.counters.requests, flushes: channel?.stats.flushes ?? null },
      bufferedBytes: s.budget.total,
      maxBufferedBytes: s.budget.limit,
      state: channel ? { shared: true, version: channel.version, watchers: this.#tap?.watchers ?? 0 } : { shared: false },
      cluster: await s.cluster(),
    };
  }

  #state(ctx: Koa.Context): void {
    const channel = this.#sources!.sharedChannel;
    if (channel === null) {
      ctx.status = 404;
      ctx.body = { error: 'no shared state: each connection has its own' };
      return;
    }
    let path: unknown;
    try {
      path = JSON.parse(String(ctx.query.path ?? '[]'));
    } catch {
      path = null;
    }
    if (!Array.isArray(path) || !path.every((p) => typeof p === 'string' || typeof p === 'number')) {
      ctx.status = 400;
      ctx.body = { error: 'path must be a JSON array of keys and indexes' };
      return;
    }
    const level = stateLevel(channel.storage.data, path);
    if (level === null) {
      ctx.status = 404;
      ctx.body = { error: 'nothing at this path' };
      return;
    }
    ctx.body = { path, ...level };
  }

  #diffs(ctx: Koa.Context): void {
    const tap = this.#tap;
    if (tap === null) {
      ctx.status = 404;
      ctx.body = { error: 'no shared state: each connection has its own' };
      return;
    }
    const stream = new PassThrough();
    this.#streams.add(stream);
    const stop = tap.listen((diff) => stream.write(`data: ${JSON.stringify(diff)}\n\n`));
    const keepalive = setInterval(() => stream.write(': keepalive\n\n'), KEEPALIVE_MS);
    keepalive.unref();
    const end = (): void => {
      stop();
      clearInterval(keepalive);
      this.#streams.delete(stream);
      stream.end();
    };
    // The response's close, not the request's: that one fires as soon as the GET has been read.
    ctx.res.once('close', end);
    stream.once('close', end);
    ctx.type = 'text/event-stream';
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = stream;
    stream.write(': watching\n\n');
  }
}
