/**
 * The Lua scripts of sessions and keyed results in Redis (docs/cluster.md,
 * "Sessions and keyed requests across nodes"): each check-and-change that
 * two nodes could race on is one script, so a key's handler is claimed by
 * one node only and a session count is trimmed without a gap.
 *
 * Keys are derived inside from the cluster's prefix `P` (standalone Redis):
 * `P sessions` (sorted set: idle session ids by idle-since), `P s:<id>`
 * (hash `{ f, v? }`: a session record, with the view its client was
 * granted as JSON once it asked for one), `P ks:<id>` (sorted set: that session's
 * keys by last change), `P k:<id>:<key>` (hash: one key's outcome record,
 * `{ f, s, n, c, x, o }`: format, state r/d/u for running/done/unknown,
 * node id, claim id, lease expiry (ms, Redis's clock), outcome JSON).
 */
import { script } from './lua-scripts.js';

/** Redis's clock in ms, as `now`. */
const NOW = `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
`;

/** Drops session `sid` with its keyed records: `drop(prefix, sid)`. */
const DROP = `
local function drop(p, sid)
  local index = p .. 'ks:' .. sid
  for _, key in ipairs(redis.call('ZRANGE', index, 0, -1)) do redis.call('DEL', p .. 'k:' .. sid .. ':' .. key) end
  redis.call('DEL', p .. 's:' .. sid, index)
  redis.call('ZREM', p .. 'sessions', sid)
end
`;

/**
 * Resumes a session when its record lives: takes it off the idle set and
 * renews it. KEYS: record, idle set. ARGV: format, ttl (ms), sid.
 * Replies `['ok', view?]` (the granted view's JSON when there is one),
 * `['none']` or `['format', f]` (a record this code cannot read).
 */
export const SESSION_RESUME = script(
  2,
  `
local r = redis.call('HMGET', KEYS[1], 'f', 'v')
if not r[1] then return {'none'} end
if r[1] ~= ARGV[1] then return {'format', r[1]} end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[3])
if r[2] then return {'ok', r[2]} end
return {'ok'}`,
);

/**
 * Keeps the view granted to a session's client in its record, when the
 * record lives (a lapsed one is not brought back without its expiry).
 * KEYS: record. ARGV: format, view JSON. Replies 1 if kept, else 0.
 */
export const SESSION_VIEW = script(
  1,
  `
if redis.call('HGET', KEYS[1], 'f') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[2])
return 1`,
);

/**
 * Creates or renews the records of sessions with a connection on the
 * calling node; a live session is not idle. KEYS: idle set.
 * ARGV: prefix, format, ttl (ms), sid...
 */
export const SESSIONS_LIVE = script(
  1,
  `
for i = 4, #ARGV do
  local record = ARGV[1] .. 's:' .. ARGV[i]
  redis.call('HSET', record, 'f', ARGV[2])
  redis.call('PEXPIRE', record, ARGV[3])
  redis.call('ZREM', KEYS[1], ARGV[i])
end
return #ARGV - 3`,
);

/**
 * A session's last connection on the calling node left: it is idle from
 * now, for `timeout` ms; then idle sessions past the timeout leave the set
 * and, beyond `max`, the ones idle longest are dropped with their keyed
 * records. KEYS: idle set. ARGV: prefix, format, timeout (ms), max, sid.
 * Replies the number of sessions dropped for the bound.
 */
export const SESSION_IDLE = script(
  1,
  `
${NOW}
${DROP}
local p, sid, timeout, max = ARGV[1], ARGV[5], tonumber(ARGV[3]), tonumber(ARGV[4])
if timeout <= 0 then
  drop(p, sid)
else
  redis.call('HSET', p .. 's:' .. sid, 'f', ARGV[2])
  redis.call('PEXPIRE', p .. 's:' .. sid, timeout)
  redis.call('ZADD', KEYS[1], now, sid)
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - timeout))
local dropped = 0
local excess = redis.call('ZCARD', KEYS[1]) - max
if excess > 0 then
  for _, old in ipairs(redis.call('ZRANGE', KEYS[1], 0, excess - 1)) do
    drop(p, old)
    dropped = dropped + 1
  end
end
return dropped`,
);

/**
 * Claims a key for the calling node, or reports its record: a running
 * record whose lease lapsed becomes `unknown` for good. Past `max` keys,
 * the session's oldest settled records go. KEYS: record, session's key
 * index. ARGV: format, node, claim id, lease (ms), ttl (ms), max, key,
 * record prefix (`P k:<sid>:`).
 * Replies `['run']`, `['done', outcome]`, `['running', node]`,
 * `['unknown']` or `['format', f]`.
 */
export const KEY_CLAIM = script(
  2,
  `
${NOW}
local f = redis.call('HGET', KEYS[1], 'f')
if f then
  if f ~= ARGV[1] then return {'format', f} end
  local r = redis.call('HMGET', KEYS[1], 's', 'n', 'c', 'x', 'o')
  if r[1] == 'd' then return {'done', r[5]} end
  if r[1] == 'u' then return {'unknown'} end
  if r[3] == ARGV[3] then return {'run'} end
  if tonumber(r[4]) < now then
    redis.call('HSET', KEYS[1], 's', 'u')
    redis.call('PEXPIRE', KEYS[1], ARGV[5])
    return {'unknown'}
  end
  return {'running', r[2]}
end
local lease = tonumber(ARGV[4])
redis.call('HSET', KEYS[1], 'f', ARGV[1], 's', 'r', 'n', ARGV[2], 'c', ARGV[3], 'x', now + lease)
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[5]) + lease)
redis.call('ZADD', KEYS[2], now, ARGV[7])
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[5]) + lease)
local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[6])
if excess > 0 then
  for _, key in ipairs(redis.call('ZRANGE', KEYS[2], 0, excess + 15)) do
    if excess <= 0 then break end
    if redis.call('HGET', ARGV[8] .. key, 's') ~= 'r' then
      redis.call('DEL', ARGV[8] .. key)
      redis.call('ZREM', KEYS[2], key)
      excess = excess - 1
    end
  end
end
return {'run'}`,
);

/**
 * Renews the lease of a running key for its claim only. KEYS: record.
 * ARGV: claim id, lease (ms), ttl (ms). Replies 1, or 0 when the record is
 * no longer this claim's running one.
 */
export const KEY_RENEW = script(
  1,
  `
${NOW}
local r = redis.call('HMGET', KEYS[1], 's', 'c')
if r[1] ~= 'r' or r[2] ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'x', now + tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) + tonumber(ARGV[2]))
return 1`,
);

/**
 * Stores a key's outcome for its claim only: once another node declared
 * it unknown, that stays. KEYS: record, session's key index.
 * ARGV: claim id, outcome JSON ('' = too large to keep: unknown), ttl (ms), key.
 * Replies 1 (stored), or 0.
 */
export const KEY_STORE = script(
  2,
  `
${NOW}
local r = redis.call('HMGET', KEYS[1], 's', 'c')
if r[1] ~= 'r' or r[2] ~= ARGV[1] then return 0 end
if ARGV[2] == '' then
  redis.call('HSET', KEYS[1], 's', 'u')
else
  redis.call('HSET', KEYS[1], 's', 'd', 'o', ARGV[2])
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], now, ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 1`,
);

/** The scripts of sessions and keyed results, as the links register them. */
export const SESSION_SCRIPTS = {
  sessionResume: SESSION_RESUME,
  sessionView: SESSION_VIEW,
  sessionsLive: SESSIONS_LIVE,
  sessionIdle: SESSION_IDLE,
  keyClaim: KEY_CLAIM,
  keyRenew: KEY_RENEW,
  keyStore: KEY_STORE,
};
