import assert from 'node:assert/strict';
import * as esbuild from 'esbuild';
import { bundleClient } from '../support/client-bundle.js';

/** What bundling `entry` for Node pulls in: our inputs and the packages it imports. */
async function graph(entry: string): Promise<{ inputs: string[]; packages: string[] }> {
  const result = await esbuild.build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', packages: 'external', write: false, metafile: true, logLevel: 'silent' });
  const output = Object.values(result.metafile.outputs)[0]!;
  return { inputs: Object.keys(result.metafile.inputs), packages: output.imports.filter((i) => i.external).map((i) => i.path) };
}

describe('koa-juggler/cluster stays its own entry', function () {
  this.timeout(30000);

  for (const entry of ['src/index.ts', 'src/client/index.ts', 'src/client/browser.ts']) {
    it(`${entry} loads neither redis nor src/cluster/`, async () => {
      const { inputs, packages } = await graph(entry);
      assert.ok(inputs.length > 5);
      assert.deepEqual(inputs.filter((i) => i.startsWith('src/cluster/')), []);
      assert.deepEqual(packages.filter((p) => p === 'redis' || p.startsWith('@redis/')), []);
    });
  }

  it('the browser bundle holds nothing of the cluster', async () => {
    const { inputs } = await bundleClient();
    assert.deepEqual(inputs.filter((i) => i.includes('cluster') || i.includes('redis')), []);
  });

  it('src/cluster/index.ts is where redis comes in', async () => {
    const { packages } = await graph('src/cluster/index.ts');
    assert.ok(packages.includes('redis'), packages.join(' '));
  });
});
