/**
 * The cluster entry of the library under test (`dist/cluster/`, or
 * BENCH_DIST's), kept apart from lib.ts so that the single-process
 * benchmarks never load Redis's client.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = process.env.BENCH_DIST ? pathToFileURL(resolve(process.env.BENCH_DIST) + '/').href : new URL('../../dist/', import.meta.url).href;
const cluster = (await import(root + 'cluster/index.js')) as typeof import('../../dist/cluster/index.js');

export const { redisCluster } = cluster;
export type RedisCluster = import('../../dist/cluster/index.js').RedisCluster;
