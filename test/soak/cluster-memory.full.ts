/**
 * The long variant of "Redis memory stays bounded" (`npm run soak`): a
 * run of writes long enough that write-id records expire behind it
 * (CLUSTER_SOAK_WRITES, default 500,000), on a real redis-server. The
 * bounds are those of test/cluster/cluster-bounds.test.ts.
 */
import { runBoundedWrites } from '../cluster/bounded-writes.js';
import { RedisServer } from '../support/redis-server.js';

const writes = Number(process.env.CLUSTER_SOAK_WRITES ?? 500_000);

describe(`cluster memory (full: ${writes} writes)`, function () {
  this.timeout(1_800_000);

  it('keeps the stream, the keys and the write-id records bounded whatever the number of writes', async () => {
    const redis = await RedisServer.start({ args: ['--maxmemory-policy', 'noeviction'] });
    await runBoundedWrites(redis.url, {
      writes,
      snapshotInterval: 10_000,
      retention: 60_000,
      onMeasure: (m) => m.writes % 50_000 === 0 && console.log(`  [cluster-memory] ${JSON.stringify(m)}`),
    });
  });
});
