/**
 * The epoch (the log's incarnation) and the nodes' liveness keys: enough
 * for a node to notice that Redis went backwards (restarted empty, from an
 * older dump, or failed over to a replica that missed writes) and for the
 * cluster to find the most advanced live node to seed a new epoch from.
 */
import { randomBytes } from 'node:crypto';
import type { ClusterKeys } from './cluster-keys.js';
import { idOfSeq, LOG_FORMAT } from './log-entry.js';
import type { RedisLink } from './redis-link.js';

/** What a node reports in its liveness key. */
export interface NodeRecord {
  /** The epoch the node applies. */
  readonly epoch: string;
  /** The last seq it applied in that epoch. */
  readonly seq: number;
}

/** A live node and what it applied. */
export interface LiveNode extends NodeRecord {
  readonly nodeId: string;
}

/** What a heartbeat found in Redis. */
export interface HeartbeatReply {
  /** The epoch in Redis, or null when there is none (Redis lost it). */
  readonly epoch: string | null;
  /** The last seq given out in that epoch. */
  readonly head: number;
}

/** Why Redis counts as having gone backwards for a node; see {@link wentBackwards}. */
export type Backwards =
  | { readonly reason: 'epoch-gone' }
  | { readonly reason: 'epoch-changed'; readonly epoch: string }
  | { readonly reason: 'head-behind'; readonly head: number };

/** A new random epoch id. */
export function newEpochId(): string {
  return randomBytes(8).toString('hex');
}

/**
 * Creates the epoch with `seed` as its snapshot at seq 0 when Redis holds
 * none, or replaces epoch `replacing` when that is the one in Redis. Atomic:
 * nodes claiming at once agree on one epoch.
 *
 * @returns the epoch in Redis afterwards and whether this call created it
 */
export async function claimEpoch(link: RedisLink, keys: ClusterKeys, seed: unknown, replacing = ''): Promise<{ epoch: string; created: boolean }> {
  const text = JSON.stringify(seed);
  if (text === undefined) throw new TypeError('seed must be JSON');
  const reply = (await link.run((c) => c.claimEpoch([keys.epoch, keys.log, keys.snapshot], [newEpochId(), LOG_FORMAT, text, replacing]) as Promise<unknown>)) as [number, string];
  return { epoch: String(reply[1]), created: Number(reply[0]) === 1 };
}

/** The epoch in Redis and the last seq given out, or null when there is none. */
export async function readEpoch(link: RedisLink, keys: ClusterKeys): Promise<{ epoch: string; head: number } | null> {
  const [epoch, head] = await link.run((c) => c.hmGet(keys.epoch, ['id', 'seq']));
  return epoch ? { epoch: String(epoch), head: Number(head ?? 0) } : null;
}

/**
 * Writes this node's liveness key (expiring after `ttl` ms) and reads the
 * epoch and head in the same script.
 */
export async function heartbeat(link: RedisLink, keys: ClusterKeys, nodeId: string, record: NodeRecord, ttl: number): Promise<HeartbeatReply> {
  const json = JSON.stringify({ epoch: record.epoch, seq: record.seq });
  const [epoch, head] = (await link.run((c) => c.heartbeat([keys.node(nodeId), keys.nodes, keys.epoch], [nodeId, json, ttl]) as Promise<unknown>)) as [string, number];
  return { epoch: epoch ? String(epoch) : null, head: Number(head) };
}

/** The nodes whose liveness key has not expired, most advanced first (by epoch's presence, then seq). */
export async function liveNodes(link: RedisLink, keys: ClusterKeys): Promise<LiveNode[]> {
  const flat = (await link.run((c) => c.liveNodes([keys.nodes], [keys.node('')]) as Promise<unknown>)) as string[];
  const nodes: LiveNode[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    try {
      const record = JSON.parse(flat[i + 1]!) as NodeRecord;
      if (typeof record.epoch === 'string' && Number.isInteger(record.seq)) nodes.push({ nodeId: flat[i]!, epoch: record.epoch, seq: record.seq });
    } catch {
      // A record this code did not write: not a node of ours.
    }
  }
  return nodes.sort((a, b) => b.seq - a.seq || a.nodeId.localeCompare(b.nodeId));
}

/**
 * Whether a heartbeat's reply shows Redis behind what this node applied:
 * the epoch gone or replaced, or the head behind the applied seq.
 */
export function wentBackwards(reply: HeartbeatReply, applied: NodeRecord): Backwards | null {
  if (reply.epoch === null) return { reason: 'epoch-gone' };
  if (reply.epoch !== applied.epoch) return { reason: 'epoch-changed', epoch: reply.epoch };
  if (reply.head < applied.seq) return { reason: 'head-behind', head: reply.head };
  return null;
}

/**
 * Compares the entry at `seq` with the write id the caller applied there:
 * `'same'`, `'different'` (Redis went backwards and took other writes
 * since), or `'missing'` (trimmed, or not written again yet).
 */
export async function checkEntry(link: RedisLink, keys: ClusterKeys, epoch: string, seq: number, writeId: string): Promise<'same' | 'different' | 'missing'> {
  const found = (await link.run((c) => c.xRange(keys.log, idOfSeq(seq), idOfSeq(seq)))) as Array<{ message: Record<string, string> }>;
  if (found.length === 0) return 'missing';
  const { e, w } = found[0]!.message;
  return e === epoch && w === writeId ? 'same' : 'different';
}
