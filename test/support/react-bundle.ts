/**
 * Bundles a React test page in memory with esbuild: `koa-juggler/client`
 * and `koa-juggler/react` resolve to src/ (the browser build), and `react`
 * / `react-dom` to React 19 (the project's) or React 18
 * (test/fixtures/react18, installed beside it).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SOURCES: Record<string, string> = {
  'koa-juggler/client': join(ROOT, 'src', 'client', 'browser.ts'),
  'koa-juggler/react': join(ROOT, 'src', 'react', 'index.ts'),
};
const REACT_FROM: Record<ReactVersion, string> = {
  18: join(ROOT, 'test', 'fixtures', 'react18', 'package.json'),
  19: join(ROOT, 'package.json'),
};

/** The React major versions the binding is tested with. */
export type ReactVersion = 18 | 19;

/**
 * The page's script as one ES module.
 * @param entry the entry's path, or its source (resolved from the repository root)
 */
export async function bundleReactPage(entry: { file: string } | { source: string }, react: ReactVersion): Promise<{ code: string; inputs: string[] }> {
  const resolveReact = createRequire(REACT_FROM[react]);
  const plugin: esbuild.Plugin = {
    name: 'koa-juggler-test-aliases',
    setup(build) {
      build.onResolve({ filter: /^koa-juggler\/(client|react)$/ }, (args) => ({ path: SOURCES[args.path]! }));
      // Every import of React, react-dom's own included, goes to the chosen version.
      build.onResolve({ filter: /^(react|react-dom)(\/.*)?$/ }, (args) => ({ path: resolveReact.resolve(args.path) }));
    },
  };
  const result = await esbuild.build({
    ...('file' in entry ? { entryPoints: [entry.file] } : { stdin: { contents: entry.source, resolveDir: ROOT, loader: 'jsx' as const, sourcefile: 'page.jsx' } }),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
    plugins: [plugin],
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  return { code: result.outputFiles[0]!.text, inputs: Object.keys(result.metafile.inputs) };
}
