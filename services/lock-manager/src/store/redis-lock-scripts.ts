/**
 * The Lua scripts of `RedisLockStore`: each operation is one script, so it is atomic against
 * every other replica. They implement the same steps as the pure `LockTable` (the contract
 * suite checks that both agree): the overlap rule of `concern-overlap.ts`, the FIFO queue, expiry
 * and `nextFencingToken`.
 *
 * Every script takes the key prefix as ARGV[1] and reads the time once from Redis (`TIME`), so
 * all replicas agree on expiry whatever their own clocks say. Keys (under the prefix):
 * - `lease:<id>`   hash owner, concerns (JSON), shared (JSON), token, expiresAt (ms);
 * - `leases`       sorted set of live lease ids by expiresAt;
 * - `queue`        list of waiting request ids, in arrival order;
 * - `waiter:<id>`  hash owner, concerns, shared, ttl, queuedAt, deadline, status
 *                  (`waiting` | `granted`) and, once granted, token and expiresAt (kept a while
 *                  after the grant so a replica that missed the notice can read it);
 * - `ended:<id>`   hash concerns, shared of a released or expired lease, for CheckFence (expires);
 * - `fence`        the last fencing token (decimal string).
 * Channel `grants`: one message `<id> <token> <expiresAt>` per queued request granted.
 *
 * Numbers that may exceed 14 digits (tokens are µs since the epoch) are always formatted with
 * `%.0f`: Lua's default number-to-string conversion would round them.
 */

/** How long `ended:<id>` and a granted `waiter:<id>` are kept. */
export const RedisLockRetention = {
  /** Released/expired leases remembered for CheckFence, ms. @default 600000 */
  endedMs: 600_000,
  /** A grant record kept for a waiter's replica to read after missed notices, ms. @default 600000 */
  grantRecordMs: 600_000,
} as const;

const prelude = `
local P = ARGV[1]
local LEASES, QUEUE, FENCE, CHANNEL = P .. 'leases', P .. 'queue', P .. 'fence', P .. 'grants'
local ENDED_MS, GRANT_RECORD_MS = ${RedisLockRetention.endedMs}, ${RedisLockRetention.grantRecordMs}
local t = redis.call('TIME')
local nowUs = tonumber(t[1]) * 1000000 + tonumber(t[2])
local now = math.floor(nowUs / 1000)
local function fmt(n) return string.format('%.0f', n) end
local function leaseKey(id) return P .. 'lease:' .. id end
local function waiterKey(id) return P .. 'waiter:' .. id end
local function endedKey(id) return P .. 'ended:' .. id end

local function kindPath(name)
  local colon = string.find(name, ':', 1, true)
  if not colon then return name, nil end
  local kind = string.sub(name, 1, colon - 1)
  if kind == 'repo' or kind == 'dir' or kind == 'file' then return kind, string.sub(name, colon + 1) end
  return kind, nil
end
local function within(child, parent)
  if parent == '/' then return true end
  return child == parent or string.sub(child, 1, #parent + 1) == parent .. '/'
end
local function overlaps(a, b)
  if a == b then return true end
  local ka, pa = kindPath(a)
  local kb, pb = kindPath(b)
  if not pa or not pb then return false end
  if pa == pb then return true end
  if ka ~= 'file' and within(pb, pa) then return true end
  return kb ~= 'file' and within(pa, pb)
end
-- The first clash of request set req with set other: {requested, held, heldMode} or nil.
local function clash(req, other)
  for _, c in ipairs(req.ex) do
    for _, h in ipairs(other.ex) do if overlaps(c, h) then return {c, h, 'exclusive'} end end
    for _, h in ipairs(other.sh) do if overlaps(c, h) then return {c, h, 'shared'} end end
  end
  for _, c in ipairs(req.sh) do
    for _, h in ipairs(other.ex) do if overlaps(c, h) then return {c, h, 'exclusive'} end end
  end
  return nil
end
local function blockerIn(req, sets, queued)
  for _, s in ipairs(sets) do
    local c = clash(req, s)
    if c then return {c[1], c[2], c[3], s.owner, s.id, queued} end
  end
  return nil
end

local function loadLease(id)
  local f = redis.call('HMGET', leaseKey(id), 'owner', 'concerns', 'shared', 'token', 'expiresAt')
  if not f[1] then return nil end
  return {id = id, owner = f[1], cj = f[2], sj = f[3], ex = cjson.decode(f[2]), sh = cjson.decode(f[3]),
    token = f[4], expiresAt = tonumber(f[5])}
end
local function leaseReply(l) return {l.id, l.owner, l.cj, l.sj, l.token, fmt(l.expiresAt)} end
local function liveLeases()
  local out = {}
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', LEASES, '(' .. fmt(now), '+inf')) do
    local l = loadLease(id)
    if l then table.insert(out, l) end
  end
  return out
end
local function loadWaiter(id)
  local f = redis.call('HMGET', waiterKey(id), 'owner', 'concerns', 'shared', 'ttl', 'queuedAt', 'deadline', 'status')
  if not f[1] then return nil end
  return {id = id, owner = f[1], cj = f[2], sj = f[3], ex = cjson.decode(f[2]), sh = cjson.decode(f[3]),
    ttl = tonumber(f[4]), queuedAt = f[5], deadline = tonumber(f[6]), status = f[7]}
end

local function nextToken()
  local token = tonumber(redis.call('GET', FENCE) or '0') + 1
  if nowUs > token then token = nowUs end
  local s = fmt(token)
  redis.call('SET', FENCE, s)
  return s
end
local function grant(id, owner, cj, sj, ttl)
  local token = nextToken()
  local expiresAt = now + ttl
  redis.call('HSET', leaseKey(id), 'owner', owner, 'concerns', cj, 'shared', sj, 'token', token, 'expiresAt', fmt(expiresAt))
  redis.call('ZADD', LEASES, fmt(expiresAt), id)
  return {id = id, owner = owner, cj = cj, sj = sj, ex = cjson.decode(cj), sh = cjson.decode(sj), token = token,
    expiresAt = expiresAt}
end
local function endLease(l)
  redis.call('DEL', leaseKey(l.id))
  redis.call('ZREM', LEASES, l.id)
  redis.call('HSET', endedKey(l.id), 'concerns', l.cj, 'shared', l.sj)
  redis.call('PEXPIRE', endedKey(l.id), ENDED_MS)
end

local expired = {}
-- Removes every lease whose expiresAt has come, remembering them for the reply.
local function sweep()
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', LEASES, '-inf', fmt(now))) do
    local l = loadLease(id)
    if l then
      endLease(l)
      table.insert(expired, leaseReply(l))
    else
      redis.call('ZREM', LEASES, id)
    end
  end
end
-- Walks the queue in arrival order: drops entries past their deadline (a crashed replica's),
-- grants every entry that clashes with no live lease and no entry still waiting ahead of it,
-- and publishes each grant. Returns the live leases and the entries still waiting.
local function grantReady()
  local live = liveLeases()
  local ahead = {}
  for _, id in ipairs(redis.call('LRANGE', QUEUE, 0, -1)) do
    local w = loadWaiter(id)
    if not w or w.status ~= 'waiting' or w.deadline <= now then
      redis.call('LREM', QUEUE, 0, id)
      if w and w.status == 'waiting' then redis.call('DEL', waiterKey(id)) end
    elseif blockerIn(w, live, '0') or blockerIn(w, ahead, '1') then
      table.insert(ahead, w)
    else
      local l = grant(id, w.owner, w.cj, w.sj, w.ttl)
      table.insert(live, l)
      redis.call('LREM', QUEUE, 0, id)
      redis.call('HSET', waiterKey(id), 'status', 'granted', 'token', l.token, 'expiresAt', fmt(l.expiresAt))
      redis.call('PEXPIRE', waiterKey(id), GRANT_RECORD_MS)
      redis.call('PUBLISH', CHANNEL, id .. ' ' .. l.token .. ' ' .. fmt(l.expiresAt))
    end
  end
  return live, ahead
end
-- ms until the earliest lease expiry (Redis clock), or -1 when no lease is held.
local function nextDelta()
  local first = redis.call('ZRANGE', LEASES, 0, 0, 'WITHSCORES')
  if first[2] then return fmt(tonumber(first[2]) - now) end
  return '-1'
end
-- Grants request (id, owner, cj, sj, ttl) when nothing live or queued clashes, else names the
-- blocker; queues it when waitMs > 0.
local function tryAcquire(id, owner, cj, sj, ttl, waitMs)
  local live, ahead = grantReady()
  local req = {ex = cjson.decode(cj), sh = cjson.decode(sj)}
  local blocker = blockerIn(req, live, '0') or blockerIn(req, ahead, '1')
  if not blocker then return {'granted', leaseReply(grant(id, owner, cj, sj, ttl)), expired, nextDelta()} end
  if waitMs <= 0 then return {'refused', blocker, expired, nextDelta()} end
  local deadline = now + waitMs
  redis.call('HSET', waiterKey(id), 'owner', owner, 'concerns', cj, 'shared', sj, 'ttl', fmt(ttl),
    'queuedAt', fmt(now), 'deadline', fmt(deadline), 'status', 'waiting')
  redis.call('PEXPIRE', waiterKey(id), waitMs + GRANT_RECORD_MS)
  redis.call('RPUSH', QUEUE, id)
  return {'queued', blocker, expired, nextDelta(), {fmt(now), fmt(deadline)}}
end
`;

/**
 * ARGV: prefix, request id, owner, concerns JSON, shared JSON, ttl, waitMs.
 * Returns {'granted', lease, expired, nextDelta} | {'refused', blocker, …} |
 * {'queued', blocker, expired, nextDelta, {queuedAt, deadline}}.
 * lease = {id, owner, concerns JSON, shared JSON, token, expiresAt};
 * blocker = {concern, heldConcern, heldMode, owner, lease or request id, '1' when queued}.
 */
export const acquireScript = `${prelude}
sweep()
return tryAcquire(ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7]))
`;

/**
 * At a waiter's deadline. ARGV: prefix, request id, owner, concerns JSON, shared JSON, ttl.
 * The lease when it was granted meanwhile; else it leaves the queue (those behind it may go)
 * and gets one last try as a new arrival. Same replies as acquire (never 'queued').
 */
export const timeoutScript = `${prelude}
sweep()
grantReady()
local w = loadWaiter(ARGV[2])
if w and w.status == 'granted' then
  local l = loadLease(ARGV[2])
  if l then return {'granted', leaseReply(l), expired, nextDelta()} end
end
redis.call('LREM', QUEUE, 0, ARGV[2])
redis.call('DEL', waiterKey(ARGV[2]))
return tryAcquire(ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6]), 0)
`;

/**
 * The caller of a waiting request left. ARGV: prefix, request id.
 * Returns {'cancelled', released lease or {}, expired, nextDelta}.
 */
export const cancelScript = `${prelude}
sweep()
redis.call('LREM', QUEUE, 0, ARGV[2])
redis.call('DEL', waiterKey(ARGV[2]))
local released = {}
local l = loadLease(ARGV[2])
if l then
  endLease(l)
  released = leaseReply(l)
end
grantReady()
return {'cancelled', released, expired, nextDelta()}
`;

/**
 * ARGV: prefix, lease id, owner.
 * Returns {'released', lease, …} | {'gone', {}, …} | {'other_owner', {}, …}.
 */
export const releaseScript = `${prelude}
sweep()
local l = loadLease(ARGV[2])
local status, reply = 'gone', {}
if l and l.owner ~= ARGV[3] then
  status = 'other_owner'
elseif l then
  endLease(l)
  status, reply = 'released', leaseReply(l)
end
grantReady()
return {status, reply, expired, nextDelta()}
`;

/**
 * ARGV: prefix, lease id, owner, ttl.
 * Returns {'extended', lease, …} | {'expired_or_released', {}, …} | {'other_owner', {}, …}.
 */
export const extendScript = `${prelude}
sweep()
grantReady()
local l = loadLease(ARGV[2])
if not l then return {'expired_or_released', {}, expired, nextDelta()} end
if l.owner ~= ARGV[3] then return {'other_owner', {}, expired, nextDelta()} end
l.expiresAt = now + tonumber(ARGV[4])
redis.call('HSET', leaseKey(l.id), 'expiresAt', fmt(l.expiresAt))
redis.call('ZADD', LEASES, fmt(l.expiresAt), l.id)
return {'extended', leaseReply(l), expired, nextDelta()}
`;

/** The sweeper's script. ARGV: prefix. Returns {'swept', {}, expired, nextDelta}. */
export const sweepScript = `${prelude}
sweep()
grantReady()
return {'swept', {}, expired, nextDelta()}
`;

/**
 * Read-only. ARGV: prefix, lease id, token.
 * Returns {'ok', lease} | {'not_live' | 'token_mismatch', newest overlapping token or ''}.
 */
export const checkFenceScript = `${prelude}
local l = loadLease(ARGV[2])
local live = l ~= nil and l.expiresAt > now
if live and l.token == ARGV[3] then return {'ok', leaseReply(l)} end
local known = l
if not known then
  local f = redis.call('HMGET', endedKey(ARGV[2]), 'concerns', 'shared')
  if f[1] then known = {ex = cjson.decode(f[1]), sh = cjson.decode(f[2])} end
end
local newest, best = '', nil
if known then
  local mine = {}
  for _, c in ipairs(known.ex) do table.insert(mine, c) end
  for _, c in ipairs(known.sh) do table.insert(mine, c) end
  for _, other in ipairs(liveLeases()) do
    local hit = false
    for _, m in ipairs(mine) do
      for _, c in ipairs(other.ex) do if overlaps(m, c) then hit = true end end
      for _, c in ipairs(other.sh) do if overlaps(m, c) then hit = true end end
    end
    if hit and (best == nil or tonumber(other.token) > best) then
      best = tonumber(other.token)
      newest = other.token
    end
  end
end
if live then return {'token_mismatch', newest} end
return {'not_live', newest}
`;

/**
 * Read-only. ARGV: prefix. Returns {leases, waiters}: live leases, and waiting requests in
 * queue order as {id, owner, concerns JSON, shared JSON, queuedAt, deadline}.
 */
export const inspectScript = `${prelude}
local leases = {}
for _, l in ipairs(liveLeases()) do table.insert(leases, leaseReply(l)) end
local waiters = {}
for _, id in ipairs(redis.call('LRANGE', QUEUE, 0, -1)) do
  local w = loadWaiter(id)
  if w and w.status == 'waiting' and w.deadline > now then
    table.insert(waiters, {id, w.owner, w.cj, w.sj, w.queuedAt, fmt(w.deadline), fmt(w.ttl)})
  end
end
return {leases, waiters}
`;
