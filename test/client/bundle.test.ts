import assert from 'node:assert/strict';
import * as nodeEntry from '../../src/client/index.js';
import { bundleClient } from '../support/client-bundle.js';

describe('browser bundle', () => {
  let code: string;
  let inputs: string[];
  before(async function () {
    this.timeout(30000);
    ({ code, inputs } = await bundleClient());
  });

  it('pulls in neither ws nor node:* modules', () => {
    assert.ok(inputs.length > 5);
    const foreign = inputs.filter((input) => !input.startsWith('src/'));
    assert.deepEqual(foreign, []);
    assert.ok(!inputs.some((input) => input.includes('node-socket')));
    assert.doesNotMatch(code, /\bnode:|\brequire\(/);
  });

  it('exports the same names as the Node entry', async () => {
    const bundle = await import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`);
    assert.deepEqual(Object.keys(bundle).sort(), Object.keys(nodeEntry).sort());
    assert.equal(typeof bundle.connect, 'function');
    assert.equal(typeof bundle.reconnect, 'function');
    assert.equal(new bundle.JugglerError({ a: 1 }).name, 'JugglerError');
  });
});
