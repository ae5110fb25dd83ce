/**
 * Redis memory stays bounded over a run of writes (docs/cluster.md, "What
 * Redis keeps"): the stream is trimmed behind the snapshot and the
 * retention window, the fixed keys stay a fixed set, and the write-id
 * records all expire. The long variant is test/soak/cluster-memory.full.ts.
 */
import { RedisServer } from '../support/redis-server.js';
import { runBoundedWrites } from './bounded-writes.js';

describe('cluster: Redis stays bounded over a run of writes', function () {
  this.timeout(60_000);

  it('8,000 writes: stream length and keys stay under the bounds snapshotInterval and retention give', async () => {
    const redis = await RedisServer.start();
    await runBoundedWrites(redis.url, { writes: 8_000, snapshotInterval: 200, retention: 200 });
  });
});
