// Compiles src/ to dist/ (ESM + declarations) and bundles the browser client
// to dist/browser/juggler-client.js, which the server serves. It is also the
// package's `prepare` script: `npm install` from a git URL and `npm pack` run
// it, with devDependencies installed, on a tree that has no dist/ yet.
// The compiled files' source maps carry their sources (--inlineSources),
// since the package ships dist/ but not src/.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

rmSync(join(root, 'dist'), { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], {
  cwd: root,
  stdio: 'inherit',
});

const esbuild = await import('esbuild');
const { CLIENT_BUNDLE_OPTIONS } = await import('./client-bundle.mjs');
const bundle = join(root, 'dist', 'browser', 'juggler-client.js');
await esbuild.build({ ...CLIENT_BUNDLE_OPTIONS, outfile: bundle, sourcemap: true });

// Compressed once here, so that a server never spends brotli's best quality
// on them (it compresses them itself only when these are missing or stale).
for (const file of [bundle, bundle + '.map']) {
  const raw = readFileSync(file);
  writeFileSync(file + '.br', brotliCompressSync(raw, { params: { [zlib.BROTLI_PARAM_QUALITY]: zlib.BROTLI_MAX_QUALITY, [zlib.BROTLI_PARAM_SIZE_HINT]: raw.length } }));
  writeFileSync(file + '.gz', gzipSync(raw, { level: zlib.Z_BEST_COMPRESSION }));
}

mkdirSync(join(root, 'dist'), { recursive: true });
writeFileSync(join(root, 'dist', '.build-stamp'), new Date().toISOString() + '\n');
