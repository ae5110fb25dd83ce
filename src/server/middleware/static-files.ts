import { realpathSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import type Koa from 'koa';
import serve from 'koa-static';

/**
 * koa-static for `dir`, with dotfiles never served and symlinks that lead
 * out of `dir` refused: koa-send already rejects `..` (encoded or not), but
 * it follows symlinks wherever they point.
 */
export function staticFiles(dir: string): Koa.Middleware {
  const root = realpathSync(resolve(dir));
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
    if (target !== root && !target.startsWith(root + sep)) return next();
    const real = await realpath(target).catch(() => null);
    if (real !== null && real !== root && !real.startsWith(root + sep)) return next();
    return send(ctx, next);
  };
}
