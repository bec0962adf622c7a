/**
 * The Lua scripts of `RedisLockStore`: each operation is one script, so it is atomic against
 * every other replica. They implement the same steps as the pure `LockTable` (the contract
 * suite checks that both agree): the overlap rule of `concern-overlap.ts`, the FIFO queue, expiry
 * and `nextFencingToken`.
 *
 * Every script takes the key prefix as ARGV[1] and the id of the replica running it as ARGV[2],
 * and reads the time once from Redis (`TIME`), so all replicas agree on expiry whatever their
 * own clocks say. Keys (under the prefix):
 * - `lease:<id>`   hash owner, concerns (JSON), shared (JSON), token, expiresAt (ms);
 * - `leases`       sorted set of live lease ids by expiresAt;
 * - `queue`        list of waiting request ids, in arrival order;
 * - `queued`       hash: waiting request id → `deadline\nconcerns\nshared` (what the queue walk
 *                  reads of every entry, in one HGETALL instead of one HMGET per entry; JSON
 *                  holds no raw newline);
 * - `waiter:<id>`  hash owner, concerns, shared, ttl, queuedAt, deadline, status
 *                  (`waiting` | `granted`), replica (whose caller waits) and, once granted, token
 *                  and expiresAt (kept a while after the grant so a replica that missed the
 *                  notice or the reply can read it);
 * - `ended:<id>`   hash concerns, shared of a released or expired lease, for CheckFence and to
 *                  tell a second release from one of an id never granted (expires);
 * - `fence`        the last fencing token (decimal string).
 * A queued request granted by a script is told to its replica once: in the script's reply (rows
 * `{id, token, expiresAt}`, the fifth element of every mutating script's reply) when the replica
 * running the script is the one that queued it, else as a message `<id> <token> <expiresAt>` on
 * channel `grants`. A request queued by an older version (no `replica`) is always published.
 *
 * Numbers that may exceed 14 digits (tokens are µs since the epoch) are always formatted with
 * `%.0f`: Lua's default number-to-string conversion would round them.
 */
import { LockTableDefaults } from '../domain/lock-table.js';

/** How long `ended:<id>` and a granted `waiter:<id>` are kept. */
export const RedisLockRetention = {
  /**
   * Released/expired leases remembered for CheckFence and Release, ms; the in-memory store's
   * `LockTable` remembers them as long. @default 600000
   */
  endedMs: LockTableDefaults.endedMemoryMs,
  /** A grant record kept for a waiter's replica to read after missed notices, ms. @default 600000 */
  grantRecordMs: 600_000,
} as const;

const prelude = `
local P, REPLICA = ARGV[1], ARGV[2]
local LEASES, QUEUE, QUEUED, FENCE, CHANNEL = P .. 'leases', P .. 'queue', P .. 'queued', P .. 'fence', P .. 'grants'
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
  local f = redis.call('HMGET', waiterKey(id), 'owner', 'concerns', 'shared', 'ttl', 'queuedAt', 'deadline', 'status', 'replica')
  if not f[1] then return nil end
  return {id = id, owner = f[1], cj = f[2], sj = f[3], ex = cjson.decode(f[2]), sh = cjson.decode(f[3]),
    ttl = tonumber(f[4]), queuedAt = f[5], deadline = tonumber(f[6]), status = f[7], replica = f[8]}
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
-- Queued requests of the replica running this script that it granted, {id, token, expiresAt}
-- each, for its reply; grants of other replicas' requests are published on CHANNEL instead.
local granted = {}
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
-- What the queue walk reads of a waiting request: its deadline and its concern lists.
local function queueRecord(deadline, cj, sj) return fmt(deadline) .. '\\n' .. cj .. '\\n' .. sj end
local function leaveQueue(id)
  redis.call('LREM', QUEUE, 0, id)
  redis.call('HDEL', QUEUED, id)
end
-- Walks the queue in arrival order: drops entries past their deadline (a crashed replica's),
-- grants every entry that clashes with no live lease and no entry still waiting ahead of it,
-- and tells each grant to the replica waiting for it: in this script's reply when that is the
-- replica running it, else on CHANNEL. Returns the live leases and the entries still waiting.
--
-- The walk reads every entry's record from one HGETALL of QUEUED. An entry asking for exactly
-- the concerns of an entry still waiting ahead of it waits too: whatever blocks that one (a
-- lease, an entry ahead, or that entry itself) blocks it. So it is not loaded or checked, nor
-- added to the waiting entries: any later request it clashes with clashes with that earlier
-- entry first. With many requests for one concern, the walk loads one entry, not all of them.
local function grantReady()
  local live = liveLeases()
  local ahead = {}
  local ids = redis.call('LRANGE', QUEUE, 0, -1)
  if #ids == 0 then return live, ahead end
  local records = {}
  local flat = redis.call('HGETALL', QUEUED)
  for i = 1, #flat, 2 do records[flat[i]] = flat[i + 1] end
  local waitingSigs = {}
  for _, id in ipairs(ids) do
    local record, deadline, sig = records[id], nil, nil
    records[id] = nil
    if record then
      local nl = string.find(record, '\\n', 1, true)
      deadline, sig = tonumber(string.sub(record, 1, nl - 1)), string.sub(record, nl + 1)
    else
      -- Queued by an older version of these scripts, without a record: read its hash.
      local old = loadWaiter(id)
      if old and old.status == 'waiting' then deadline, sig = old.deadline, old.cj .. '\\n' .. old.sj end
    end
    if not deadline or deadline <= now then
      leaveQueue(id)
      if deadline then redis.call('DEL', waiterKey(id)) end
    elseif not waitingSigs[sig] then
      local w = loadWaiter(id)
      if not w or w.status ~= 'waiting' then
        leaveQueue(id)
      elseif blockerIn(w, live, '0') or blockerIn(w, ahead, '1') then
        waitingSigs[sig] = true
        table.insert(ahead, w)
      else
        local l = grant(id, w.owner, w.cj, w.sj, w.ttl)
        table.insert(live, l)
        leaveQueue(id)
        redis.call('HSET', waiterKey(id), 'status', 'granted', 'token', l.token, 'expiresAt', fmt(l.expiresAt))
        redis.call('PEXPIRE', waiterKey(id), GRANT_RECORD_MS)
        if w.replica == REPLICA then
          table.insert(granted, {id, l.token, fmt(l.expiresAt)})
        else
          redis.call('PUBLISH', CHANNEL, id .. ' ' .. l.token .. ' ' .. fmt(l.expiresAt))
        end
      end
    end
  end
  -- Records of ids no longer queued (left behind by an older version of these scripts).
  for id in pairs(records) do redis.call('HDEL', QUEUED, id) end
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
  if not blocker then return {'granted', leaseReply(grant(id, owner, cj, sj, ttl)), expired, nextDelta(), granted} end
  if waitMs <= 0 then return {'refused', blocker, expired, nextDelta(), granted} end
  local deadline = now + waitMs
  redis.call('HSET', waiterKey(id), 'owner', owner, 'concerns', cj, 'shared', sj, 'ttl', fmt(ttl),
    'queuedAt', fmt(now), 'deadline', fmt(deadline), 'status', 'waiting', 'replica', REPLICA)
  redis.call('PEXPIRE', waiterKey(id), waitMs + GRANT_RECORD_MS)
  redis.call('RPUSH', QUEUE, id)
  redis.call('HSET', QUEUED, id, queueRecord(deadline, cj, sj))
  return {'queued', blocker, expired, nextDelta(), granted, {fmt(now), fmt(deadline)}}
end
`;

/**
 * ARGV: prefix, replica, request id, owner, concerns JSON, shared JSON, ttl, waitMs.
 * Returns {'granted', lease, expired, nextDelta, grants} | {'refused', blocker, …} |
 * {'queued', blocker, expired, nextDelta, grants, {queuedAt, deadline}}.
 * lease = {id, owner, concerns JSON, shared JSON, token, expiresAt}; grants = {{id, token, expiresAt}…},
 * the requests queued by this replica that this call granted (every mutating script replies with
 * them fifth);
 * blocker = {concern, heldConcern, heldMode, owner, lease or request id, '1' when queued}.
 */
export const acquireScript = `${prelude}
sweep()
return tryAcquire(ARGV[3], ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7]), tonumber(ARGV[8]))
`;

/**
 * At a waiter's deadline. ARGV: prefix, replica, request id, owner, concerns JSON, shared JSON, ttl.
 * The lease when it was granted meanwhile; else it leaves the queue (those behind it may go)
 * and gets one last try as a new arrival. Same replies as acquire (never 'queued').
 */
export const timeoutScript = `${prelude}
sweep()
grantReady()
local w = loadWaiter(ARGV[3])
if w and w.status == 'granted' then
  local l = loadLease(ARGV[3])
  if l then return {'granted', leaseReply(l), expired, nextDelta(), granted} end
end
leaveQueue(ARGV[3])
redis.call('DEL', waiterKey(ARGV[3]))
return tryAcquire(ARGV[3], ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7]), 0)
`;

/**
 * The caller of a waiting request left. ARGV: prefix, replica, request id.
 * Returns {'cancelled', released lease or {}, expired, nextDelta, grants}.
 */
export const cancelScript = `${prelude}
sweep()
leaveQueue(ARGV[3])
redis.call('DEL', waiterKey(ARGV[3]))
local released = {}
local l = loadLease(ARGV[3])
if l then
  endLease(l)
  released = leaseReply(l)
end
grantReady()
return {'cancelled', released, expired, nextDelta(), granted}
`;

/**
 * ARGV: prefix, replica, lease id, owner.
 * Returns {'released', lease, …} | {'other_owner', {}, …} | {'gone', {}, …} for a lease that
 * ended within the retention (its `ended:<id>` is still there: a repeated release) |
 * {'unknown', {}, …} for an id never granted, or ended longer ago than the retention.
 */
export const releaseScript = `${prelude}
sweep()
local l = loadLease(ARGV[3])
local status, reply = 'gone', {}
if l and l.owner ~= ARGV[4] then
  status = 'other_owner'
elseif l then
  endLease(l)
  status, reply = 'released', leaseReply(l)
elseif redis.call('EXISTS', endedKey(ARGV[3])) == 0 then
  status = 'unknown'
end
grantReady()
return {status, reply, expired, nextDelta(), granted}
`;

/**
 * ARGV: prefix, replica, lease id, owner, ttl.
 * Returns {'extended', lease, …} | {'expired_or_released', {}, …} | {'other_owner', {}, …}.
 */
export const extendScript = `${prelude}
sweep()
grantReady()
local l = loadLease(ARGV[3])
if not l then return {'expired_or_released', {}, expired, nextDelta(), granted} end
if l.owner ~= ARGV[4] then return {'other_owner', {}, expired, nextDelta(), granted} end
l.expiresAt = now + tonumber(ARGV[5])
redis.call('HSET', leaseKey(l.id), 'expiresAt', fmt(l.expiresAt))
redis.call('ZADD', LEASES, fmt(l.expiresAt), l.id)
return {'extended', leaseReply(l), expired, nextDelta(), granted}
`;

/** The sweeper's script. ARGV: prefix, replica. Returns {'swept', {}, expired, nextDelta, grants}. */
export const sweepScript = `${prelude}
sweep()
grantReady()
return {'swept', {}, expired, nextDelta(), granted}
`;

/**
 * Read-only. ARGV: prefix, replica, lease id, token.
 * Returns {'ok', lease} | {'not_live' | 'token_mismatch', newest overlapping token or ''}.
 */
export const checkFenceScript = `${prelude}
local l = loadLease(ARGV[3])
local live = l ~= nil and l.expiresAt > now
if live and l.token == ARGV[4] then return {'ok', leaseReply(l)} end
local known = l
if not known then
  local f = redis.call('HMGET', endedKey(ARGV[3]), 'concerns', 'shared')
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
 * Read-only. ARGV: prefix, replica. Returns {leases, waiters}: live leases, and waiting requests in
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
