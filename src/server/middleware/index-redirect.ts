import type Koa from 'koa';

/** `GET /` answers 302 to the index page (hat-juggler's `index_path`). */
export function indexRedirect(indexPath: string): Koa.Middleware {
  return async function indexRedirect(ctx, next) {
    if (ctx.path === '/' && (ctx.method === 'GET' || ctx.method === 'HEAD')) {
      ctx.status = 302;
      ctx.redirect(indexPath);
      return;
    }
    await next();
  };
}
