import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type Koa from 'koa';

export const CLIENT_BUNDLE_PATH = '/juggler-client.js';

/**
 * Where the browser bundle is: beside the compiled server in dist/, or in
 * the package's dist/ when the server runs from src/ (tests through tsx).
 */
function bundleFile(): string | null {
  const candidates = [
    new URL('../../browser/juggler-client.js', import.meta.url),
    new URL('../../../dist/browser/juggler-client.js', import.meta.url),
  ];
  for (const url of candidates) {
    const path = fileURLToPath(url);
    if (existsSync(path)) return path;
  }
  return null;
}

/** Serves the browser build of the client at /juggler-client.js (and its source map). */
export function clientBundle(): Koa.Middleware {
  const file = bundleFile();
  let cached: Promise<[Buffer, Buffer | null]> | null = null;
  const load = () =>
    (cached ??= Promise.all([readFile(file!), readFile(file + '.map').catch(() => null)]).catch((err) => {
      cached = null;
      throw err;
    }));
  return async function clientBundle(ctx, next) {
    const isMap = ctx.path === CLIENT_BUNDLE_PATH + '.map';
    if ((ctx.path !== CLIENT_BUNDLE_PATH && !isMap) || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    if (file === null) {
      ctx.status = 404;
      ctx.body = 'the browser client is not built: run npm run build\n';
      return;
    }
    const [code, map] = await load();
    if (isMap) {
      if (map === null) return next();
      ctx.type = 'application/json';
      ctx.body = map;
      return;
    }
    ctx.type = 'text/javascript; charset=utf-8';
    ctx.body = code;
  };
}
