/**
 * `koa-juggler/cluster`: several koa-juggler nodes sharing one state
 * through Redis (docs/cluster.md). Its own entry, so that only users of a
 * cluster load the Redis client: `koa-juggler`, `koa-juggler/client` and
 * the browser bundle never import this.
 *
 * @example
 * import { listen } from 'koa-juggler';
 * import { redisCluster } from 'koa-juggler/cluster';
 * const cluster = await redisCluster({ url: 'redis://127.0.0.1:6379', name: 'plant', initial: { points: {} } });
 * const server = await listen({ cluster, sessionSecret: process.env.SESSION_SECRET });
 */
export { redisCluster, RedisCluster } from './redis-cluster.js';
export { ClusterState } from './cluster-state.js';
export type { RedisClusterOptions } from './cluster-options.js';
export { ClusterUnavailableError, InvalidArgumentError } from '../errors.js';
export type { Storage, StorageOptions, ChangeLogOptions, ChangeListener, Path, PathSegment, JsonValue, ServerCluster, ClusterServerHooks } from '../index.js';
export type { CheckedPath, IsLiteralPath, IsUntyped, PathKey, PathStepsLeft, StepInto, TypedKey, TypedPath, TypedPathDepth, TypedPathStep, UntypedPath, ValueAt } from '../index.js';
