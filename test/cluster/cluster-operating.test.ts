import assert from 'node:assert/strict';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js';
import { RedisServer } from '../support/redis-server.js';
import { waitFor } from '../support/wait.js';
import { freshName, node, serve } from './cluster-helpers.js';

async function get(port: number, path: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, text: await res.text() };
}

describe('operating a cluster node (/readyz, /metrics, admin)', function () {
  this.timeout(20000);

  it('is ready with the cluster up, stays ready with {"cluster":"down"} while Redis is away, and shows the cluster gauges', async () => {
    const redis = await RedisServer.start();
    const cluster = await node(redis.url, freshName(), { initial: { n: 0 } });
    const server = await serve(cluster, { health: true, metrics: true });
    await cluster.state.set('n', 1);

    const up = await get(server.port, '/readyz');
    assert.equal(up.status, 200);
    assert.equal(JSON.parse(up.text).cluster, 'up');
    let families = parsePrometheusText((await get(server.port, '/metrics')).text);
    assert.equal(sampleValue(families, 'juggler_cluster_redis_up'), 1);
    assert.equal(sampleValue(families, 'juggler_cluster_pending_writes'), 0);
    assert.equal(sampleValue(families, 'juggler_cluster_log_lag_entries'), 0);

    await redis.kill();
    await waitFor(() => !cluster.connected, 'the node to see Redis gone');
    // The node still serves its clients with the last state: a load balancer must keep sending them.
    const down = await get(server.port, '/readyz');
    assert.equal(down.status, 200);
    assert.equal(JSON.parse(down.text).cluster, 'down');
    families = parsePrometheusText((await get(server.port, '/metrics')).text);
    assert.equal(sampleValue(families, 'juggler_cluster_redis_up'), 0);
    const pending = cluster.state.set('n', 2);
    pending.catch(() => {});
    families = parsePrometheusText((await get(server.port, '/metrics')).text);
    assert.ok(sampleValue(families, 'juggler_cluster_pending_writes')! >= 1);
    await redis.restart();
    await pending;
    assert.equal(cluster.state.get('n'), 2);
  });

  it('lists the live nodes and their lag on the admin page', async () => {
    const redis = await RedisServer.start();
    const name = freshName();
    const a = await node(redis.url, name, { initial: {} });
    const b = await node(redis.url, name, { initial: {} });
    const server = await serve(a, { admin: true });
    await b.state.set('x', 1);
    await waitFor(() => a.state.get('x') === 1, 'node a to apply the write');
    let ids: string[] = [];
    await waitFor(async () => {
      const overview = JSON.parse((await get(server.port, '/_admin/api/overview')).text) as { cluster: { id: string; self: boolean; lag: number | null }[] | null };
      ids = (overview.cluster ?? []).map((n) => n.id).sort();
      return ids.length === 2 && overview.cluster!.some((n) => n.self && n.id === a.nodeId);
    }, 'both nodes on the admin page');
    assert.deepEqual(ids, [a.nodeId, b.nodeId].sort());
  });
});
