import type { IncomingMessage } from 'node:http';
import type Koa from 'koa';

/** Returns the authenticated user for a request, or null to refuse it. */
export type Authenticate = (req: IncomingMessage) => Promise<string | null> | string | null;

/**
 * Refuses requests that `authenticate` does not accept: 401, with a Basic
 * challenge when `challenge` is given (htpasswd), so browsers ask for a
 * password. The user ends up in `ctx.state.user`.
 */
export function requireAuth(authenticate: Authenticate, challenge: string | null): Koa.Middleware {
  return async function requireAuth(ctx, next) {
    const user = await authenticate(ctx.req);
    if (user === null || user === undefined) {
      ctx.status = 401;
      if (challenge !== null) ctx.set('WWW-Authenticate', challenge);
      ctx.body = 'authentication required\n';
      return;
    }
    ctx.state.user = user;
    await next();
  };
}
