// The esbuild settings of the browser client bundle, in one place: the build
// writes it to dist/browser/juggler-client.js (with its source map, so the
// minified file still debugs as the TypeScript it came from), tests build
// it in memory.
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export const CLIENT_BUNDLE_OPTIONS = Object.freeze({
  entryPoints: [join(root, 'src', 'client', 'browser.ts')],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
});
