/**
 * Snapshots and trimming: one node at a time (the holder of the lease)
 * writes the value with its log position; the log is then trimmed behind
 * both that position and the retention window. The lease is a key set
 * with NX and an expiry; only its holder renews it (compare-and-expire in
 * Lua), so a stopped holder loses it within its ttl and another takes over.
 */
import { randomBytes } from 'node:crypto';
import type { ClusterKeys } from './cluster-keys.js';
import { LOG_FORMAT, parseSnapshot, type Snapshot } from './log-entry.js';
import type { RedisLink } from './redis-link.js';

/** What writing a snapshot came to. */
export type SnapshotWrite =
  | { readonly status: 'written' }
  /** This node does not hold the lease (any more). */
  | { readonly status: 'not-holder' }
  /** The epoch in Redis is another one. */
  | { readonly status: 'wrong-epoch' }
  /** The log's head is `head`, behind the position given. */
  | { readonly status: 'ahead'; readonly head: number }
  /** A snapshot at `seq` (at or past this one) is already stored. */
  | { readonly status: 'older'; readonly seq: number };

/**
 * The snapshot lease of one node: a random token in the lease key.
 *
 * @example
 * const lease = new SnapshotLease(link, keys, 3000);
 * if (await lease.acquire()) await writeSnapshot(link, keys, lease, epoch, seq, value);
 */
export class SnapshotLease {
  /** This node's token (random per lease object). */
  readonly token = randomBytes(12).toString('hex');
  readonly #link: RedisLink;
  readonly #keys: ClusterKeys;
  readonly #ttl: number;

  /** @param ttl how long the lease lasts without renewal, in ms */
  constructor(link: RedisLink, keys: ClusterKeys, ttl: number) {
    this.#link = link;
    this.#keys = keys;
    this.#ttl = ttl;
  }

  /** Takes the lease if nobody holds it, or renews it if this node does; true when this node holds it now. */
  async acquire(): Promise<boolean> {
    if (await this.renew()) return true;
    const reply = await this.#link.run((c) => c.set(this.#keys.lease, this.token, { condition: 'NX', expiration: { type: 'PX', value: this.#ttl } }));
    return reply === 'OK';
  }

  /** Extends the lease only if this node holds it; true when it did. */
  async renew(): Promise<boolean> {
    const reply = await this.#link.run((c) => c.renewLease([this.#keys.lease], [this.token, this.#ttl]) as Promise<unknown>);
    return Number(reply) === 1;
  }

  /** Gives the lease up if this node holds it. */
  async release(): Promise<void> {
    await this.#link.run((c) => c.releaseLease([this.#keys.lease], [this.token]) as Promise<unknown>);
  }
}

/**
 * Writes a snapshot of `value` as of `seq` in `epoch`, if `lease` is held.
 *
 * @throws {TypeError} when `value` cannot be serialized as JSON
 */
export async function writeSnapshot(link: RedisLink, keys: ClusterKeys, lease: SnapshotLease, epoch: string, seq: number, value: unknown): Promise<SnapshotWrite> {
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError('value must be JSON');
  const reply = (await link.run((c) => c.writeSnapshot([keys.epoch, keys.snapshot, keys.lease], [epoch, seq, LOG_FORMAT, text, lease.token]) as Promise<unknown>)) as [string, number?];
  switch (reply[0]) {
    case 'ok':
      return { status: 'written' };
    case 'lease':
      return { status: 'not-holder' };
    case 'epoch':
      return { status: 'wrong-epoch' };
    case 'ahead':
      return { status: 'ahead', head: Number(reply[1]) };
    default:
      return { status: 'older', seq: Number(reply[1]) };
  }
}

/** The newest snapshot, or null when Redis holds none. */
export async function readSnapshot(link: RedisLink, keys: ClusterKeys): Promise<Snapshot | null> {
  return parseSnapshot(await link.run((c) => c.hGetAll(keys.snapshot)));
}

/**
 * Trims the log behind the snapshot and `retention` ms (by Redis's clock);
 * resolves with the number of entries removed.
 */
export async function trimLog(link: RedisLink, keys: ClusterKeys, retention: number): Promise<number> {
  return Number(await link.run((c) => c.trim([keys.epoch, keys.log, keys.snapshot], [retention]) as Promise<unknown>));
}
