/**
 * koa-juggler/react outside the browser: the hooks refuse a client they
 * cannot follow before touching React, and no other entry loads React.
 */
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { InvalidArgumentError } from '../../src/errors.js';
import { Storage } from '../../src/index.js';
import { useJuggler, useJugglerStatus } from '../../src/react/index.js';
import { connectTo } from '../support/client-helpers.js';
import { startServer } from '../support/server.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('koa-juggler/react entry', () => {
  it('useJuggler refuses a client made without snapshots: true, saying so', async () => {
    const server = await startServer({ state: new Storage({ a: 1 }) });
    const client = await connectTo(server.url);
    assert.throws(() => useJuggler(client), (err: unknown) => err instanceof InvalidArgumentError && err.argument === 'live' && /snapshots: true/.test(err.message));
  });

  it('both hooks refuse what is not a client', () => {
    for (const bad of [null, 1, {}, { onChange() {} }]) {
      assert.throws(() => useJuggler(bad as never), (err: unknown) => err instanceof InvalidArgumentError && err.argument === 'live');
      assert.throws(() => useJugglerStatus(bad as never), (err: unknown) => err instanceof InvalidArgumentError && err.argument === 'live');
    }
  });

  it('no other entry loads React', async () => {
    const entries = ['src/index.ts', 'src/client/index.ts', 'src/client/browser.ts'];
    for (const entry of entries) {
      const result = await esbuild.build({
        entryPoints: [join(ROOT, entry)],
        bundle: true,
        platform: entry.endsWith('browser.ts') ? 'browser' : 'node',
        format: 'esm',
        packages: entry.endsWith('browser.ts') ? undefined : 'external',
        write: false,
        metafile: true,
        logLevel: 'silent',
      });
      const imports = Object.values(result.metafile.inputs).flatMap((input) => input.imports.map((i) => i.path));
      assert.deepEqual(imports.filter((path) => /(^|[\\/])react(-dom)?([\\/]|$)/.test(path)), [], entry);
      assert.equal(Object.keys(result.metafile.inputs).some((path) => path.includes('src/react/')), false, entry);
    }
  });
});
