/**
 * The options of {@link redisCluster}: one interface with documented
 * defaults, validated in one place. Timing bounds are options too, so tests
 * (and operators with unusual networks) can shorten them.
 */
import { InvalidArgumentError } from '../errors.js';
import type { JsonValue } from '../json.js';
import { adoptValue } from '../state/adopt-value.js';
import { checkName } from './cluster-keys.js';

/** Options of {@link redisCluster}. */
export interface RedisClusterOptions {
  /** `redis://` or `rediss://`; credentials in the URL allowed (never logged). */
  url: string;
  /** The cluster's name: every Redis key starts with `koa-juggler:<name>:`. @default 'default' */
  name?: string;
  /** The state when Redis holds none yet; ignored otherwise. @default null */
  initial?: JsonValue;
  /** Log entries between snapshots. @default 10000 */
  snapshotInterval?: number;
  /** How long (ms) the log is kept behind the newest snapshot, for resume. @default 60000 */
  retention?: number;
  /** How long (ms) a write may wait for Redis before it rejects with ClusterUnavailableError. @default 10000 */
  writeTimeout?: number;
  /** Writes waiting for Redis at once; beyond, a write rejects at once. @default 100000 */
  maxPendingWrites?: number;
  /** Cluster events and errors (outages, resets, rejected writes). @default one log line each */
  onError?: ((err: Error) => void) | null;
  /** This node's id in Redis (1-64 of `A-Z a-z 0-9 . _ -`). @default random */
  nodeId?: string;
  /** A Redis connection owing a reply this long (ms) is replaced. @default 10000 */
  watchdog?: number;
  /** How long a snapshot lease and a node's liveness key last without renewal (ms). @default 5000 */
  leaseTtl?: number;
  /** How long (ms) a reset waits for the live nodes' reports before the most advanced seeds the new epoch. @default 2000 */
  resetWait?: number;
  /** How often (ms) the snapshot and trim check runs. @default 1000 */
  snapshotCheck?: number;
  /**
   * How long (ms) a client resuming from a version this node has not
   * applied yet waits for it before it gets the whole value instead of a
   * diff; 0 never waits. @default 1000
   */
  resumeWait?: number;
}

/** The options with defaults applied. */
export interface ResolvedClusterOptions {
  url: string;
  name: string;
  initial: JsonValue;
  snapshotInterval: number;
  retention: number;
  writeTimeout: number;
  maxPendingWrites: number;
  onError: (err: Error) => void;
  nodeId: string | undefined;
  watchdog: number;
  leaseTtl: number;
  resetWait: number;
  snapshotCheck: number;
  resumeWait: number;
}

const KNOWN = new Set([
  'url', 'name', 'initial', 'snapshotInterval', 'retention', 'writeTimeout', 'maxPendingWrites', 'onError',
  'nodeId', 'watchdog', 'leaseTtl', 'resetWait', 'snapshotCheck', 'resumeWait',
]);

function defaultOnError(err: Error): void {
  console.error(`koa-juggler: cluster: ${err.message}`);
}

/**
 * Applies defaults and checks every option.
 * @throws InvalidArgumentError naming the first bad option (`options.retention must be ...`)
 */
export function resolveClusterOptions(options: RedisClusterOptions): ResolvedClusterOptions {
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options', 'an object', options);
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw new InvalidArgumentError(`options.${key}`, 'a known option (see RedisClusterOptions)');
  }
  const o = options as unknown as Record<string, unknown>;
  const num = (key: string, fallback: number, min: number, integer = false): number => {
    const v = o[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || (integer && !Number.isInteger(v))) {
      throw new InvalidArgumentError(`options.${key}`, `${integer ? 'an integer' : 'a number'} of at least ${min}`, v);
    }
    return v;
  };
  if (typeof o.url !== 'string' || !/^rediss?:\/\//.test(o.url)) throw new InvalidArgumentError('options.url', 'a redis:// or rediss:// URL', undefined);
  const name = o.name === undefined ? 'default' : checkName(o.name, 'options.name');
  const nodeId = o.nodeId === undefined ? undefined : checkName(o.nodeId, 'options.nodeId');
  if (o.onError !== undefined && o.onError !== null && typeof o.onError !== 'function') {
    throw new InvalidArgumentError('options.onError', 'a function', o.onError);
  }
  const initial = o.initial === undefined ? null : adoptValue(o.initial, new WeakSet(), 'options.initial');
  return {
    url: o.url,
    name,
    initial,
    snapshotInterval: num('snapshotInterval', 10_000, 1, true),
    retention: num('retention', 60_000, 0),
    writeTimeout: num('writeTimeout', 10_000, 1),
    maxPendingWrites: num('maxPendingWrites', 100_000, 1, true),
    onError: (o.onError as ((err: Error) => void) | null | undefined) ?? defaultOnError,
    nodeId,
    watchdog: num('watchdog', 10_000, 10),
    leaseTtl: num('leaseTtl', 5000, 10),
    resetWait: num('resetWait', 2000, 0),
    snapshotCheck: num('snapshotCheck', 1000, 5),
    resumeWait: num('resumeWait', 1000, 0),
  };
}
