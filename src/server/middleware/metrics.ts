/**
 * `GET /metrics` (`metrics: true`): the Prometheus text of the server's own
 * registry, mounted after authentication like every other route.
 */
import type Koa from 'koa';
import type { Registry } from 'prom-client';

/** Serves `registry` at `/metrics` in the Prometheus text format. */
export function metricsRoute(registry: Registry): Koa.Middleware {
  return async (ctx, next) => {
    if (ctx.path !== '/metrics' || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    ctx.type = registry.contentType;
    ctx.body = await registry.metrics();
  };
}
