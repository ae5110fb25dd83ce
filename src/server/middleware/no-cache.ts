import type Koa from 'koa';

/** `Cache-Control: no-cache` on every response, so dashboards never run stale code after a deploy. */
export function noCache(): Koa.Middleware {
  return async function noCache(ctx, next) {
    try {
      await next();
    } finally {
      ctx.set('Cache-Control', 'no-cache');
    }
  };
}
