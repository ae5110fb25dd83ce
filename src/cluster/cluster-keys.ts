/**
 * The Redis keys of one cluster. Every key starts with
 * `koa-juggler:<name>:`, so one Redis can hold several clusters and an
 * operator can see (and bound) what each keeps.
 */
import { InvalidArgumentError } from '../errors.js';

/** Key names of one cluster; see docs/cluster.md "What Redis keeps". */
export interface ClusterKeys {
  /** `koa-juggler:<name>:` */
  readonly prefix: string;
  /** Hash `{ id, seq, t }`: the epoch's id, the last sequence number given out, the last entry's time. */
  readonly epoch: string;
  /** The stream: one entry per append, id `<seq>-0`. */
  readonly log: string;
  /** Hash `{ f, e, s, t, v }`: the newest snapshot. */
  readonly snapshot: string;
  /** String: the token of the node that may write snapshots (expires). */
  readonly lease: string;
  /** Set of node ids that sent a heartbeat; pruned when their key expired. */
  readonly nodes: string;
  /** The liveness key of one node (expires). */
  node(nodeId: string): string;
  /** The de-duplication record of one write id in one epoch (expires). */
  write(epoch: string, writeId: string): string;
}

/** Cluster names and node ids: what may appear inside a key without quoting. */
const NAME = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Checks `value` as a cluster name or node id (1-64 of `A-Z a-z 0-9 . _ -`).
 *
 * @throws {InvalidArgumentError} naming `argument` when it is not one
 */
export function checkName(value: unknown, argument: string): string {
  if (typeof value !== 'string' || !NAME.test(value)) {
    throw new InvalidArgumentError(argument, '1-64 characters of A-Z a-z 0-9 . _ -', value);
  }
  return value;
}

/**
 * The keys of cluster `name`.
 *
 * @throws {InvalidArgumentError} when `name` is not a valid cluster name
 * @example
 * clusterKeys('plant').log // 'koa-juggler:plant:log'
 */
export function clusterKeys(name: string): ClusterKeys {
  const prefix = `koa-juggler:${checkName(name, 'name')}:`;
  return {
    prefix,
    epoch: `${prefix}epoch`,
    log: `${prefix}log`,
    snapshot: `${prefix}snapshot`,
    lease: `${prefix}lease`,
    nodes: `${prefix}nodes`,
    node: (nodeId) => `${prefix}node:${nodeId}`,
    write: (epoch, writeId) => `${prefix}w:${epoch}:${writeId}`,
  };
}
