/**
 * `metrics: true`: Prometheus text at GET /metrics, read over real HTTP
 * with a strict parser after real traffic; behind authentication; one
 * registry per server; request names capped.
 */
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { register as globalRegistry } from 'prom-client';
import { JugglerError, Storage } from '../../../src/index.js';
import { connectTo } from '../../support/client-helpers.js';
import { makeHtpasswd } from '../../support/htpasswd.js';
import { onCleanup } from '../../support/cleanup.js';
import { parsePrometheusText, sampleValue, type PromFamily } from '../../support/prometheus-text.js';
import { startServer } from '../../support/server.js';
import { waitFor } from '../../support/wait.js';

async function scrape(port: number, headers: Record<string, string> = {}): Promise<Map<string, PromFamily>> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { headers });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await res.text());
}

describe('metrics', () => {
  it('is off by default: /metrics is not served and server.metrics is null', async () => {
    const server = await startServer();
    assert.equal(server.metrics, null);
    const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    assert.equal(res.status, 404);
  });

  it('counts connections, messages, bytes, requests, flushes and state after real traffic', async () => {
    const state = new Storage({ n: 0, text: 'x'.repeat(100) });
    const server = await startServer({
      metrics: true,
      state,
      autoflushDelay: 0,
      onRequest(conn, name, data) {
        if (name === 'fail') throw new JugglerError('no');
        if (name === 'slow') return new Promise((resolve) => setTimeout(() => resolve(data), 30));
        state.set('n', (state.get('n') as number) + 1);
        return data;
      },
    });
    assert.ok(server.metrics instanceof Registry);
    const plain = await connectTo(server.url, { extensions: false });
    const ext = await connectTo(server.url);
    for (let i = 0; i < 5; i++) await plain.send('inc', i);
    await assert.rejects(ext.send('fail', null), JugglerError);
    await ext.send('slow', 1);
    await waitFor(() => (plain.state as { n: number } | null)?.n === 5 && (ext.state as { n: number } | null)?.n === 5, 'both clients at n = 5');

    const m = await scrape(server.port);
    assert.equal(sampleValue(m, 'juggler_connections', { kind: 'plain' }), 1);
    assert.equal(sampleValue(m, 'juggler_connections', { kind: 'extension' }), 1);
    assert.equal(sampleValue(m, 'juggler_connections_opened_total', { kind: 'plain' }), 1);
    assert.equal(m.get('juggler_connections_opened_total')!.type, 'counter');
    assert.equal(sampleValue(m, 'juggler_requests_total', { name: 'inc' }), 5);
    assert.equal(sampleValue(m, 'juggler_request_failures_total', { name: 'inc' }), 0);
    assert.equal(sampleValue(m, 'juggler_request_failures_total', { name: 'fail' }), 1);
    const slowSum = sampleValue(m, 'juggler_request_duration_seconds', { name: 'slow' }, 'juggler_request_duration_seconds_sum')!;
    assert.ok(slowSum >= 0.025 && slowSum < 5, `slow request took ${slowSum} s`);
    assert.equal(sampleValue(m, 'juggler_request_duration_seconds', { name: 'slow', le: '0.01' }, 'juggler_request_duration_seconds_bucket'), 0);
    assert.equal(sampleValue(m, 'juggler_request_duration_seconds', { name: 'slow', le: '+Inf' }, 'juggler_request_duration_seconds_bucket'), 1);
    // hello + 5 + 2 requests; responses, welcome and state messages the other way.
    assert.ok(sampleValue(m, 'juggler_messages_received_total')! >= 8);
    assert.ok(sampleValue(m, 'juggler_messages_sent_total')! >= 8 + 5 * 2);
    assert.ok(sampleValue(m, 'juggler_received_bytes_total')! > 200);
    assert.ok(sampleValue(m, 'juggler_sent_bytes_total')! > 2 * 100, 'the whole value went to both clients');
    assert.equal(sampleValue(m, 'juggler_flush_duration_seconds', {}, 'juggler_flush_duration_seconds_count'), 5);
    assert.ok(sampleValue(m, 'juggler_state_diff_bytes_total')! >= 5 * '[{"op":"replace","path":"/n","value":1}]'.length);
    assert.equal(sampleValue(m, 'juggler_state_bytes'), JSON.stringify({ n: 0, text: 'x'.repeat(100) }).length, 'the last whole value sent (at join)');
    assert.equal(sampleValue(m, 'juggler_sessions'), 1);
    assert.equal(sampleValue(m, 'juggler_streams'), 0);
    assert.equal(sampleValue(m, 'juggler_connections_held_back'), 0);
    assert.equal(m.has('juggler_cluster_redis_up'), false, 'cluster gauges only with a cluster');

    plain.close();
    await plain.closed;
    await waitFor(async () => sampleValue(await scrape(server.port), 'juggler_connections_closed_total', { code: '1000' }) === 1, 'a close by 1000 counted');
    const after = await scrape(server.port);
    assert.equal(sampleValue(after, 'juggler_connections', { kind: 'plain' }), 0);
    assert.ok(sampleValue(after, 'juggler_messages_received_total')! >= 8, 'closed connections stay in the totals');
  });

  it('keeps a registry per server, never the global one', async () => {
    const a = await startServer({ metrics: true });
    const b = await startServer({ metrics: true });
    assert.notEqual(a.metrics, b.metrics);
    assert.equal(globalRegistry.getSingleMetric('juggler_connections'), undefined);
  });

  it('labels only the first 100 request names; the rest count as "other"', async () => {
    const server = await startServer({ metrics: true, parallelRequests: true, onRequest: () => null });
    const client = await connectTo(server.url);
    await Promise.all(Array.from({ length: 130 }, (_, i) => client.send(`name-${i}`, null)));
    const m = await scrape(server.port);
    const names = m.get('juggler_requests_total')!.samples.map((s) => s.labels.name);
    assert.equal(names.length, 101);
    assert.equal(sampleValue(m, 'juggler_requests_total', { name: 'other' }), 30);
  });

  it('escapes hostile request names in labels', async () => {
    const server = await startServer({ metrics: true, onRequest: () => null });
    const client = await connectTo(server.url);
    const name = 'a"b\\c\nd}';
    await client.send(name, null);
    const m = await scrape(server.port);
    assert.equal(sampleValue(m, 'juggler_requests_total', { name }), 1);
  });

  it('is behind the same authentication as every route', async () => {
    const tmp = await makeHtpasswd([{ user: 'ops', password: 'secret', format: 'bcrypt' }]);
    onCleanup(() => tmp.cleanup());
    const server = await startServer({ metrics: true, htpasswdFile: tmp.path });
    const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    assert.equal(res.status, 401);
    const m = await scrape(server.port, { authorization: 'Basic ' + Buffer.from('ops:secret').toString('base64') });
    assert.ok(m.has('juggler_connections'));
  });

  it('exports the cluster gauges once the cluster wiring gives a source', async () => {
    const server = await startServer({ metrics: true });
    server.metricsHub!.setClusterSource({ redisUp: () => false, logLagEntries: () => 7, pendingWrites: () => 2 });
    const m = await scrape(server.port);
    assert.equal(sampleValue(m, 'juggler_cluster_redis_up'), 0);
    assert.equal(sampleValue(m, 'juggler_cluster_log_lag_entries'), 7);
    assert.equal(sampleValue(m, 'juggler_cluster_pending_writes'), 2);
  });
});
