// The official hat-juggler browser client (@hat-open/juggler) against a
// koa-juggler server: a shared counter, no build step. The page loads the
// client and its three dependencies from node_modules through an import
// map; this server serves them at /vendor/NAME/.
// Run: npm install @hat-open/juggler koa-juggler, then node server.mjs
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { listen, Storage, JugglerError } from 'koa-juggler';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, 'server.mjs'));
// Each package's folder of its entry file (the import map names the entry's file name).
const roots = new Map(['@hat-open/juggler', '@hat-open/renderer', '@hat-open/util', 'snabbdom'].map((name) => {
  const pkgDir = dirname(require.resolve(`${name}/package.json`));
  const main = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')).main ?? 'index.js';
  return [name, dirname(join(pkgDir, main))];
}));

async function vendor(ctx, next) {
  const match = /^\/vendor\/((?:@[^/]+\/)?[^/]+)\/(.+\.js)$/.exec(ctx.path);
  const root = match && roots.get(match[1]);
  if (!root) return next();
  const file = normalize(join(root, match[2]));
  if (!file.startsWith(root + sep)) return next(); // no ../ out of the package
  ctx.type = 'text/javascript';
  ctx.body = await readFile(file).catch(() => { ctx.throw(404); });
}

const state = new Storage({ count: 0 });
const server = await listen({
  port: Number(process.env.PORT ?? 8080),
  state,
  staticDir: here,
  middleware: [vendor],
  onRequest(conn, name, data) {
    if (name !== 'add') throw new JugglerError({ error: `unknown request ${name}` });
    state.set(['count'], state.get(['count']) + (Number.isInteger(data) ? data : 1));
    return state.get(['count']);
  },
});
console.log(`listening on http://127.0.0.1:${server.port}/`);
process.once('SIGINT', () => server.close());
process.once('SIGTERM', () => server.close());
