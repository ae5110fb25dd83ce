/** Cluster nodes in this process for tests: short bounds, closed after each test. */
import { redisCluster, type RedisCluster, type RedisClusterOptions } from '../../src/cluster/index.js';
import { listen, type ListenOptions, type Server } from '../../src/index.js';
import { onCleanup } from '../support/cleanup.js';
import { freshName } from './store-helpers.js';

export const SECRET = 'a test session secret, long enough';

/** Short timing bounds, so failure tests finish in seconds. */
export const FAST = { watchdog: 1000, leaseTtl: 1000, resetWait: 300, snapshotCheck: 50 } as const;

/** A cluster node, closed after the test (errors collected in `errors`). */
export async function node(url: string, name: string, options: Partial<RedisClusterOptions> = {}): Promise<RedisCluster & { errors: Error[] }> {
  const errors: Error[] = [];
  const cluster = await redisCluster({ url, name, ...FAST, onError: (err) => errors.push(err), ...options });
  onCleanup(() => cluster.close());
  return Object.assign(cluster, { errors });
}

/** A server on a cluster node, closed after the test. */
export async function serve(cluster: RedisCluster, options: ListenOptions = {}): Promise<Server> {
  const server = await listen({ cluster, sessionSecret: SECRET, autoflushDelay: 0, onError: () => {}, ...options });
  onCleanup(() => server.close());
  return server;
}

export { freshName };
