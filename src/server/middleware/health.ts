/**
 * `GET /healthz` and `GET /readyz` (`health: true`), mounted ahead of
 * authentication: load balancers and orchestrators probe without
 * credentials, and the answers tell nothing but whether the process lives
 * and whether it takes traffic.
 */
import type Koa from 'koa';
import type { ReadinessReport } from '../readiness.js';

/**
 * The two probes: `/healthz` answers 200 `{"alive":true}` while the process
 * serves HTTP at all; `/readyz` answers the readiness report, 200 when
 * ready, else 503.
 */
export function healthRoutes(readiness: () => ReadinessReport): Koa.Middleware {
  return async (ctx, next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    if (ctx.path === '/healthz') {
      ctx.body = { alive: true };
      return;
    }
    if (ctx.path === '/readyz') {
      const report = readiness();
      ctx.status = report.ready ? 200 : 503;
      ctx.body = report;
      return;
    }
    return next();
  };
}
