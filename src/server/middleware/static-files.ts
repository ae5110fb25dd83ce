import { ReadStream, realpathSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import type Koa from 'koa';
import serve from 'koa-static';

/**
 * koa-static for `dir`, with dotfiles never served and symlinks that lead
 * out of `dir` refused: koa-send already rejects `..` (encoded or not), but
 * it follows symlinks wherever they point. The file koa-send finally opens
 * is checked too, since it may not be the one asked for: a directory's
 * `index.html`, or a precompressed `.gz` / `.br` variant.
 */
export function staticFiles(dir: string): Koa.Middleware {
  const root = realpathSync(resolve(dir));
  const inside = (path: string): boolean => path === root || path.startsWith(root + sep);
  const send = serve(root, { hidden: false, index: 'index.html', defer: false });
  return async function staticFiles(ctx, next) {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    let decoded: string;
    try {
      decoded = decodeURIComponent(ctx.path);
    } catch {
      ctx.status = 400;
      return;
    }
    const target = resolve(root, '.' + decoded);
    if (!inside(target)) return next();
    const real = await realpath(target).catch((err: NodeJS.ErrnoException) => (err.code === 'ELOOP' ? undefined : null));
    // A symlink loop is nothing to serve (koa-send would answer 500).
    if (real === undefined || (real !== null && !inside(real))) return next();
    await send(ctx, next);
    const body: unknown = ctx.body;
    if (body instanceof ReadStream) {
      const served = await realpath(String(body.path)).catch(() => null);
      if (served === null || !inside(served)) {
        body.destroy();
        ctx.remove('Content-Encoding');
        ctx.remove('Last-Modified');
        ctx.body = null;
        ctx.status = 404;
      }
    }
  };
}
