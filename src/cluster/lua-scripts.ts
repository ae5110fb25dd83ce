/**
 * The Lua scripts: every operation that must be atomic in Redis. node-redis
 * sends them by SHA and falls back to the text on NOSCRIPT; the links also
 * load them on every (re)connect, so pipelined appends never meet NOSCRIPT
 * one by one and overtake each other on the retry.
 *
 * Replies are arrays (RESP2): a status word first, so a refusal is data,
 * never a Redis error that would look like a broken connection.
 */
import { defineScript } from 'redis';
import type { CommandParser } from 'redis';

/** Redis's clock in ms, kept from going backwards by the epoch hash's `t`. */
const NOW = `
local clock = redis.call('TIME')
local t = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local last = tonumber(redis.call('HGET', KEYS[1], 't') or '0')
if t < last then t = last end
`;

/** A script called as `client.name(keys, args)`, its reply passed on as Redis sent it. */
export function script(numberOfKeys: number, text: string) {
  return defineScript({
    NUMBER_OF_KEYS: numberOfKeys,
    SCRIPT: text,
    parseCommand(parser: CommandParser, keys: string[], args: Array<string | number>) {
      for (const key of keys) parser.pushKey(key);
      for (const arg of args) parser.push(String(arg));
    },
    transformReply: (reply: unknown): unknown => reply,
  });
}

/**
 * Appends one entry. KEYS: epoch, log, write record. ARGV: epoch, node id,
 * write id, body, format, record ttl (ms).
 * Replies `['ok', seq, t]`, `['dup', seq]` (this write id already landed in
 * this epoch) or `['epoch', current]` (refused: wrong or missing epoch).
 */
export const APPEND = script(
  3,
  `
local cur = redis.call('HGET', KEYS[1], 'id')
if cur ~= ARGV[1] then return {'epoch', cur or ''} end
local dup = redis.call('GET', KEYS[3])
if dup then return {'dup', tonumber(dup)} end
${NOW}
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('HSET', KEYS[1], 't', t)
redis.call('XADD', KEYS[2], string.format('%d-0', seq), 'f', ARGV[5], 'e', ARGV[1], 'n', ARGV[2], 'w', ARGV[3], 't', string.format('%d', t), 'b', ARGV[4])
redis.call('SET', KEYS[3], seq, 'PX', ARGV[6])
return {'ok', seq, t}`,
);

/**
 * Creates the epoch when none exists, or replaces `expected` with a new
 * one; the new epoch starts with its seed as the snapshot at seq 0 and an
 * empty log. KEYS: epoch, log, snapshot. ARGV: new id, format, seed value
 * (JSON), expected current id ('' = only when none).
 * Replies `[1, id]` (created) or `[0, id]` (someone else's epoch stands).
 */
export const CLAIM_EPOCH = script(
  3,
  `
local cur = redis.call('HGET', KEYS[1], 'id')
if cur and cur ~= ARGV[4] then return {0, cur} end
${NOW}
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'seq', 0, 't', string.format('%d', t))
redis.call('HSET', KEYS[3], 'f', ARGV[2], 'e', ARGV[1], 's', 0, 't', string.format('%d', t), 'v', ARGV[3])
return {1, ARGV[1]}`,
);

/**
 * Writes a snapshot if the caller holds the lease, the epoch is current,
 * the position exists in the log and is newer than the stored snapshot.
 * KEYS: epoch, snapshot, lease. ARGV: epoch, seq, format, value (JSON), lease token.
 * Replies `['ok']`, `['lease']`, `['epoch']`, `['ahead', head]` or `['old', stored seq]`.
 */
export const WRITE_SNAPSHOT = script(
  3,
  `
if redis.call('GET', KEYS[3]) ~= ARGV[5] then return {'lease'} end
if redis.call('HGET', KEYS[1], 'id') ~= ARGV[1] then return {'epoch'} end
local head = tonumber(redis.call('HGET', KEYS[1], 'seq'))
local seq = tonumber(ARGV[2])
if seq > head then return {'ahead', head} end
local stored = tonumber(redis.call('HGET', KEYS[2], 's') or '-1')
if redis.call('HGET', KEYS[2], 'e') == ARGV[1] and stored >= seq then return {'old', stored} end
${NOW}
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], 'f', ARGV[3], 'e', ARGV[1], 's', ARGV[2], 't', string.format('%d', t), 'v', ARGV[4])
return {'ok'}`,
);

/**
 * Trims the log behind both the snapshot and the retention: keeps every
 * entry from the snapshot's seq on, and every entry younger than
 * `retention` ms by Redis's clock. The cut is found by a binary search on
 * the entries' `t` (ids are sequence numbers, not times).
 * KEYS: epoch, log, snapshot. ARGV: retention (ms). Replies the number of entries removed.
 */
export const TRIM = script(
  3,
  `
local snap = tonumber(redis.call('HGET', KEYS[3], 's') or '0')
if redis.call('HGET', KEYS[3], 'e') ~= redis.call('HGET', KEYS[1], 'id') then return 0 end
${NOW}
local cutoff = t - tonumber(ARGV[1])
local first = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)
if #first == 0 then return 0 end
local function seqOf(id) return tonumber(string.match(id, '^(%d+)')) end
local function timeOf(fields)
  for i = 1, #fields, 2 do if fields[i] == 't' then return tonumber(fields[i + 1]) or 0 end end
  return 0
end
local lo, hi = seqOf(first[1][1]), snap
if lo >= hi then return 0 end
while lo < hi do
  local mid = math.floor((lo + hi) / 2)
  local e = redis.call('XRANGE', KEYS[2], string.format('%d-0', mid), '+', 'COUNT', 1)
  if timeOf(e[1][2]) >= cutoff then hi = mid else lo = mid + 1 end
end
return redis.call('XTRIM', KEYS[2], 'MINID', string.format('%d-0', lo))`,
);

/** Renews a lease only for its holder. KEYS: lease. ARGV: token, ttl (ms). Replies 1 or 0. */
export const RENEW_LEASE = script(
  1,
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`,
);

/** Deletes a lease only for its holder. KEYS: lease. ARGV: token. Replies 1 or 0. */
export const RELEASE_LEASE = script(
  1,
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`,
);

/**
 * A node's heartbeat: writes its liveness key and reports the epoch and
 * the head of the log, so one round trip both keeps the node listed and
 * notices Redis going backwards. KEYS: node key, nodes set, epoch.
 * ARGV: node id, record (JSON), ttl (ms). Replies `[epoch id or '', head seq]`.
 */
export const HEARTBEAT = script(
  3,
  `
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('SADD', KEYS[2], ARGV[1])
local e = redis.call('HMGET', KEYS[3], 'id', 'seq')
return {e[1] or '', tonumber(e[2] or '0')}`,
);

/**
 * Lists live nodes and forgets those whose key expired. The per-node keys
 * are derived inside (standalone Redis; a node set stays small).
 * KEYS: nodes set. ARGV: node key prefix. Replies `[id, record, id, record, ...]`.
 */
export const LIVE_NODES = script(
  1,
  `
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local v = redis.call('GET', ARGV[1] .. id)
  if v then out[#out + 1] = id; out[#out + 1] = v else redis.call('SREM', KEYS[1], id) end
end
return out`,
);

/** Every script, as the links register them. */
export const SCRIPTS = {
  append: APPEND,
  claimEpoch: CLAIM_EPOCH,
  writeSnapshot: WRITE_SNAPSHOT,
  trim: TRIM,
  renewLease: RENEW_LEASE,
  releaseLease: RELEASE_LEASE,
  heartbeat: HEARTBEAT,
  liveNodes: LIVE_NODES,
};
