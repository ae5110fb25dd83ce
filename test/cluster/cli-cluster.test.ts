/** `koa-juggler serve --redis URL`: the demo on two nodes, as two real processes sharing one Redis. */
import assert from 'node:assert/strict';
import { connect } from '../../src/client/index.js';
import { onCleanup } from '../support/cleanup.js';
import { ensureBuilt, runCli } from '../support/cli.js';
import { RedisServer } from '../support/redis-server.js';
import { waitFor } from '../support/wait.js';
import { freshName } from './store-helpers.js';

describe('koa-juggler serve --redis', function () {
  this.timeout(60_000);
  before(function () {
    this.timeout(120_000);
    ensureBuilt();
  });

  it('runs the demo on two nodes: a request on one shows on a client of the other', async () => {
    const redis = await RedisServer.start();
    const name = freshName();
    const env = { SESSION_SECRET: 'the same secret on every node' };
    const nodes = [0, 1].map(() => runCli(['serve', '--port', '0', '--redis', redis.url, '--cluster-name', name], { env }));
    const [one, two] = await Promise.all(nodes.map((n) => n.listening()));
    const a = await connect(`ws://${one!.host}/ws`);
    const b = await connect(`ws://${two!.host}/ws`);
    onCleanup(() => {
      a.close();
      b.close();
    });
    const counter = await a.send('increment', 5);
    assert.equal(counter, 5);
    // b may not have its first state yet: null until then.
    await waitFor(() => (b.state as { counter?: number } | null)?.counter === 5, 'the other node shows the counter');
  });

  it('warns loudly without SESSION_SECRET, and refuses --cluster-name without --redis', async () => {
    const redis = await RedisServer.start();
    const cli = runCli(['serve', '--port', '0', '--redis', redis.url], { env: { SESSION_SECRET: undefined } });
    await cli.waitForLine(/WARNING: SESSION_SECRET is not set/, 'stderr');
    await cli.listening();
    const bad = runCli(['serve', '--cluster-name', 'x']);
    const exit = await bad.waitExit();
    assert.equal(exit.code, 2);
  });
});
