/**
 * Views on a cluster (docs/views.md, docs/cluster.md): two nodes on a real
 * redis-server, clients with views on each node, plain and extension; every
 * client (ours, raw plain, raw extension) ends with the shared value restricted to its view, and no frame
 * carries a marker written outside it.
 */
import assert from 'node:assert/strict';
import { connect, type Client } from '../../src/client/index.js';
import type { JsonValue } from '../../src/json.js';
import { EXTENSION_PROTOCOL } from '../../src/protocol/messages.js';
import { applyPatch } from '../../src/state/apply-patch.js';
import { onCleanup } from '../support/cleanup.js';
import { RawClient } from '../support/raw-client.js';
import { useRedis } from '../support/redis-server.js';
import { waitFor } from '../support/wait.js';
import { assertNoMarkerOutside } from '../state/support/markers.js';
import { restrict } from '../state/support/restrict.js';
import { freshName, node, serve } from './cluster-helpers.js';

/** JSON text with object keys sorted. */
function sorted(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  );
}

/** The site a client views, from its URL (`?site=north`). */
const siteOf = (url: string): string => new URL(url, 'http://x').searchParams.get('site') ?? 'none';

async function ourClient(port: number, site: string): Promise<Client> {
  const client = await connect(`ws://127.0.0.1:${port}/ws?site=${site}`);
  onCleanup(async () => {
    client.close();
    await client.closed;
  });
  return client;
}

/** A raw plain client's value: its state diffs replayed. */
function replayed(raw: RawClient): JsonValue {
  let value: JsonValue = null;
  for (const m of raw.messages) if (m.type === 'state') value = applyPatch(value as never, m.diff);
  return value;
}

describe('views on a cluster', function () {
  this.timeout(20000);
  const redis = useRedis();

  it('two nodes, clients with views on each: equal restricted states, no marker from outside the view', async () => {
    const name = freshName();
    const sites = ['north', 'south', 'east'];
    const initial = { sites: Object.fromEntries(sites.map((s) => [s, { p0: `M/sites/${s}/p0` }])), admin: { key: 'M/admin/key' } };
    const a = await node(redis().url, name, { initial });
    const b = await node(redis().url, name);
    const nodes = [a, b];
    const options = {
      view: (conn: { request: { url: string } }) => [['sites', siteOf(conn.request.url)]],
      onView: (conn: { request: { url: string } }, paths: string[][]) => paths.filter((p) => p[0] === 'sites' && p[1] === siteOf(conn.request.url)),
    };
    const servers = await Promise.all(nodes.map((n) => serve(n, options)));
    const ours = await Promise.all(servers.flatMap((s) => sites.slice(0, 2).map((site) => ourClient(s.port, site))));
    const oursViews = servers.flatMap(() => sites.slice(0, 2).map((site) => [['sites', site]]));
    const plain = await Promise.all(servers.map((s, i) => RawClient.connect(`ws://127.0.0.1:${s.port}/ws?site=${sites[2 - i]}`)));
    const plainViews = servers.map((_, i) => [['sites', sites[2 - i]!]]);
    // Raw extension clients too, so their frames can be read.
    for (const s of servers) {
      const raw = await RawClient.connect(`ws://127.0.0.1:${s.port}/ws?site=north`, { protocols: [EXTENSION_PROTOCOL] });
      raw.send({ type: 'hello', session: null, version: null });
      plain.push(raw);
      plainViews.push([['sites', 'north']]);
    }
    for (const raw of plain) onCleanup(() => raw.close());
    // An extension client narrows its own view through onView: granted within its site only.
    const narrow = ours[1]!;
    assert.deepEqual(await narrow.setView([['sites', 'south', 'p1'], ['admin']]), [['sites', 'south', 'p1']]);
    oursViews[1] = [['sites', 'south', 'p1']];
    const writes = [];
    for (let i = 0; i < 40; i++) {
      const n = nodes[i % 2]!;
      const site = sites[i % 3]!;
      const point = `p${i % 4}`;
      writes.push(n.state.set(['sites', site, point], `M/sites/${site}/${point}/${i}`));
      if (i % 5 === 0) writes.push(n.state.set(['admin', 'key'], `M/admin/key/${i}`));
      if (i % 7 === 0) writes.push(n.state.remove(['sites', site, 'p0']));
      if (i === 20) writes.push(n.state.set(['sites', 'south'], { p1: 'M/sites/south/p1/whole', p9: 'M/sites/south/p9' }));
    }
    await Promise.all(writes);
    await waitFor(() => a.version === b.version, 'both nodes applied every entry');
    assert.equal(JSON.stringify(a.state.data), JSON.stringify(b.state.data));
    const data = a.state.data;
    await waitFor(() => ours.every((c, i) => sorted(c.state) === sorted(restrict(data, oursViews[i]!))), 'our clients hold their views');
    await waitFor(() => plain.every((raw, i) => sorted(replayed(raw)) === sorted(restrict(data, plainViews[i]!))), 'raw clients hold their views');
    for (const [i, raw] of plain.entries()) assertNoMarkerOutside(raw.frames.join('\n'), plainViews[i]!);
    // Our clients' frames are not kept; what they hold must be nothing but their view, equal on both nodes.
    for (const [i, c] of ours.entries()) assertNoMarkerOutside(JSON.stringify(c.state), oursViews[i]!);
    assert.equal(sorted(ours[0]!.state), sorted(ours[2]!.state), 'equal views on two nodes hold equal states');
    assert.equal(ours[0]!.version, ours[2]!.version);
  });
});
