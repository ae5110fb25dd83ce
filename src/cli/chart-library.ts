/**
 * Serves uPlot, the demo's chart library, from the package's dependency at
 * fixed paths, so the demo page needs no build step and no CDN:
 * `/vendor/uplot.esm.js` and `/vendor/uplot.min.css`.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type Koa from 'koa';

/** The URL paths of the chart library, and their files in uPlot's dist/. */
export const CHART_FILES: Readonly<Record<string, { file: string; type: string }>> = {
  '/vendor/uplot.esm.js': { file: 'uPlot.esm.js', type: 'text/javascript' },
  '/vendor/uplot.min.css': { file: 'uPlot.min.css', type: 'text/css' },
};

/**
 * Koa middleware answering GET and HEAD of {@link CHART_FILES} (read once, kept in memory).
 * @example
 * listen({ middleware: [chartLibrary()] });
 */
export function chartLibrary(): Koa.Middleware {
  const dist = join(dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist');
  const cache = new Map<string, Promise<Buffer>>();
  return async function chartLibrary(ctx, next) {
    const entry = CHART_FILES[ctx.path];
    if (entry === undefined || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    let body = cache.get(entry.file);
    if (body === undefined) cache.set(entry.file, (body = readFile(join(dist, entry.file))));
    ctx.type = entry.type;
    ctx.body = await body;
  };
}
