import type Koa from 'koa';

/** A plain HTTP request to the WebSocket path: 426, saying what the path is for. */
export function wsPathAnswer(wsPath: string): Koa.Middleware {
  return async function wsPathAnswer(ctx, next) {
    if (ctx.path !== wsPath) return next();
    ctx.status = 426;
    ctx.set('Upgrade', 'websocket');
    ctx.set('Connection', 'Upgrade');
    ctx.body = 'this path is a WebSocket endpoint (juggler protocol)\n';
  };
}
