/**
 * Locks in Redis, shared by every lock-manager replica. Each operation is one Lua script, so
 * an acquire of several concerns is atomic (all granted or none) and ownership checks cannot
 * race with expiry.
 *
 * Keys, under a configurable prefix (default `maestro:lock:`):
 * - `<prefix>concern:<concern>`: the id of the lease holding it, with the lease's PX ttl;
 * - `<prefix>lease:<id>`: hash of owner, concerns (JSON), token, expiresAt, same ttl;
 * - `<prefix>fence`: the counter every grant INCRs, so fencing tokens rise across all concerns;
 * - `<prefix>leases`: sorted set of lease ids by expiry, for Inspect (pruned as it goes).
 *
 * Expiry times come from Redis's own clock (`TIME` inside the scripts), the same clock that
 * expires the keys, so replicas with skewed clocks agree on when a lease ends. Scripts read
 * lease and concern keys they derive from the prefix, so this needs a standalone Redis (or a
 * single slot), not Redis Cluster.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { OperationalError, UnexpectedError, isMaestroError, systemClock } from '@maestro/runtime';
import type { Clock } from '@maestro/runtime';
import { lockNotHeld } from '../domain/lease.js';
import type { AcquireSpec, ExtendSpec, Lease, ReleaseSpec } from '../domain/lease.js';
import { acquireWithWait } from './acquire-with-wait.js';
import type { AcquireAttempt, AcquireOptions, LockStore } from './lock-store.js';

/** The key prefix used when none is configured. */
export const DEFAULT_LOCK_KEY_PREFIX = 'maestro:lock:';

/** Options of {@link RedisLockStore}. */
export interface RedisLockStoreOptions {
  /** The connection; the store never closes it (its owner does). */
  redis: Redis;
  /** Prefix of every key; tests use a unique one per run. @default 'maestro:lock:' */
  keyPrefix?: string;
  /** Clock of the waiting loop (lease expiry uses Redis's clock). @default systemClock */
  clock?: Clock;
  /** Makes lease ids. @default crypto.randomUUID */
  newLeaseId?: () => string;
}

// A Redis TIME reading in ms; Redis freezes time for the length of a script, so every key set
// in one script expires at the same instant.
const nowMs = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * KEYS: fence, index, lease, concern keys… ; ARGV: leaseId, owner, ttl, concerns JSON,
 * lease key prefix, concern names… (aligned with the concern keys).
 * Returns {1, token, expiresAt} or {0, concern, holder lease id, holder owner}.
 */
const acquireScript = `
local ttl = tonumber(ARGV[3])
for i = 4, #KEYS do
  local holder = redis.call('GET', KEYS[i])
  if holder then
    local owner = redis.call('HGET', ARGV[5] .. holder, 'owner')
    return {0, ARGV[i + 2], holder, owner or '(unknown)'}
  end
end
${nowMs}
local expiresAt = now + ttl
local token = redis.call('INCR', KEYS[1])
for i = 4, #KEYS do
  redis.call('SET', KEYS[i], ARGV[1], 'PX', ttl)
end
redis.call('HSET', KEYS[3], 'owner', ARGV[2], 'concerns', ARGV[4], 'token', token, 'expiresAt', expiresAt)
redis.call('PEXPIRE', KEYS[3], ttl)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('ZADD', KEYS[2], expiresAt, ARGV[1])
return {1, token, expiresAt}
`;

/**
 * KEYS: lease, index; ARGV: leaseId, owner, ttl, concern key prefix.
 * Returns {1, token, expiresAt, concerns JSON} or {0, why}.
 */
const extendScript = `
local owner = redis.call('HGET', KEYS[1], 'owner')
if not owner then return {0, 'expired_or_released'} end
if owner ~= ARGV[2] then return {0, 'other_owner'} end
local ttl = tonumber(ARGV[3])
local concernsJson = redis.call('HGET', KEYS[1], 'concerns')
local concerns = cjson.decode(concernsJson)
for _, concern in ipairs(concerns) do
  if redis.call('GET', ARGV[4] .. concern) ~= ARGV[1] then return {0, 'expired_or_released'} end
end
${nowMs}
local expiresAt = now + ttl
for _, concern in ipairs(concerns) do
  redis.call('PEXPIRE', ARGV[4] .. concern, ttl)
end
redis.call('HSET', KEYS[1], 'expiresAt', expiresAt)
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('ZADD', KEYS[2], expiresAt, ARGV[1])
return {1, redis.call('HGET', KEYS[1], 'token'), expiresAt, concernsJson}
`;

/**
 * KEYS: lease, index; ARGV: leaseId, owner, concern key prefix.
 * Returns {1, token, expiresAt, concerns JSON} or {0, why}.
 */
const releaseScript = `
local f = redis.call('HMGET', KEYS[1], 'owner', 'concerns', 'token', 'expiresAt')
if not f[1] then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return {0, 'expired_or_released'}
end
if f[1] ~= ARGV[2] then return {0, 'other_owner'} end
for _, concern in ipairs(cjson.decode(f[2])) do
  local key = ARGV[3] .. concern
  if redis.call('GET', key) == ARGV[1] then redis.call('DEL', key) end
end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return {1, f[3], f[4], f[2]}
`;

/**
 * KEYS: index; ARGV: lease key prefix.
 * Returns {{leaseId, owner, concerns JSON, token, expiresAt}, …} for every live lease.
 */
const inspectScript = `
${nowMs}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local f = redis.call('HMGET', ARGV[1] .. id, 'owner', 'concerns', 'token', 'expiresAt')
  if f[1] then table.insert(out, {id, f[1], f[2], f[3], f[4]}) end
end
return out
`;

/** A Lua script run by its SHA, loaded on first use (and again after a Redis restart). */
class LuaScript {
  private readonly sha: string;

  constructor(
    readonly name: string,
    private readonly source: string,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: Redis, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

const scripts = {
  acquire: new LuaScript('acquire', acquireScript),
  extend: new LuaScript('extend', extendScript),
  release: new LuaScript('release', releaseScript),
  inspect: new LuaScript('inspect', inspectScript),
} as const;

/** A {@link LockStore} in Redis (ioredis), atomic per operation through Lua scripts. */
export class RedisLockStore implements LockStore {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly clock: Clock;
  private readonly newLeaseId: () => string;

  constructor(options: RedisLockStoreOptions) {
    this.redis = options.redis;
    this.prefix = options.keyPrefix ?? DEFAULT_LOCK_KEY_PREFIX;
    this.clock = options.clock ?? systemClock;
    this.newLeaseId = options.newLeaseId ?? randomUUID;
  }

  acquire(spec: AcquireSpec, options: AcquireOptions = {}): Promise<Lease> {
    return acquireWithWait(() => this.tryAcquire(spec), spec.waitMs, { clock: this.clock, signal: options.signal });
  }

  async extend(spec: ExtendSpec): Promise<Lease> {
    const reply = await this.run(
      scripts.extend,
      [this.leaseKey(spec.leaseId), this.indexKey],
      [spec.leaseId, spec.owner, spec.ttlMs, this.concernKey('')],
    );
    const [ok, tokenOrWhy, expiresAt, concerns] = asArray(reply, 'extend');
    if (ok !== 1) throw lockNotHeld(spec.leaseId, spec.owner, toWhy(tokenOrWhy));
    return this.toLease(spec.leaseId, spec.owner, concerns, tokenOrWhy, expiresAt);
  }

  async release(spec: ReleaseSpec): Promise<Lease | undefined> {
    const reply = await this.run(
      scripts.release,
      [this.leaseKey(spec.leaseId), this.indexKey],
      [spec.leaseId, spec.owner, this.concernKey('')],
    );
    const [ok, tokenOrWhy, expiresAt, concerns] = asArray(reply, 'release');
    if (ok === 1) return this.toLease(spec.leaseId, spec.owner, concerns, tokenOrWhy, expiresAt);
    if (toWhy(tokenOrWhy) === 'other_owner') throw lockNotHeld(spec.leaseId, spec.owner, 'other_owner');
    return undefined;
  }

  async inspect(concernPrefix: string): Promise<Lease[]> {
    const reply = await this.run(scripts.inspect, [this.indexKey], [this.leaseKey('')]);
    const leases = asArray(reply, 'inspect').map((row) => {
      const [leaseId, owner, concerns, token, expiresAt] = asArray(row, 'inspect');
      return this.toLease(String(leaseId), String(owner), concerns, token, expiresAt);
    });
    return leases.filter((lease) => lease.concerns.some((concern) => concern.startsWith(concernPrefix)));
  }

  private async tryAcquire(spec: AcquireSpec): Promise<AcquireAttempt> {
    const leaseId = this.newLeaseId();
    const reply = await this.run(
      scripts.acquire,
      [this.fenceKey, this.indexKey, this.leaseKey(leaseId), ...spec.concerns.map((c) => this.concernKey(c))],
      [leaseId, spec.owner, spec.ttlMs, JSON.stringify(spec.concerns), this.leaseKey(''), ...spec.concerns],
    );
    const [ok, a, b, c] = asArray(reply, 'acquire');
    if (ok !== 1) {
      return { granted: false, conflict: { concern: String(a), leaseId: String(b), owner: String(c) } };
    }
    const lease: Lease = {
      leaseId,
      owner: spec.owner,
      concerns: [...spec.concerns],
      fencingToken: Number(a),
      expiresAt: Number(b),
    };
    return { granted: true, lease };
  }

  private async run(script: LuaScript, keys: readonly string[], args: ReadonlyArray<string | number>) {
    try {
      return await script.run(this.redis, keys, args);
    } catch (err) {
      if (isMaestroError(err)) throw err;
      // A Redis that is down or unreachable is transient: callers may retry (UNAVAILABLE).
      throw new OperationalError(
        'LOCK_STORE_UNAVAILABLE',
        `lock store (redis) failed during ${script.name}: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
  }

  private toLease(leaseId: string, owner: string, concerns: unknown, token: unknown, expiresAt: unknown): Lease {
    const parsed: unknown = JSON.parse(String(concerns));
    if (!Array.isArray(parsed)) {
      throw new UnexpectedError('LOCK_STORE_CORRUPT', `lease ${leaseId} has malformed concerns in redis`);
    }
    return {
      leaseId,
      owner,
      concerns: parsed.map(String),
      fencingToken: Number(token),
      expiresAt: Number(expiresAt),
    };
  }

  private get fenceKey(): string {
    return `${this.prefix}fence`;
  }

  private get indexKey(): string {
    return `${this.prefix}leases`;
  }

  private leaseKey(leaseId: string): string {
    return `${this.prefix}lease:${leaseId}`;
  }

  private concernKey(concern: string): string {
    return `${this.prefix}concern:${concern}`;
  }
}

function asArray(reply: unknown, operation: string): unknown[] {
  if (!Array.isArray(reply)) {
    throw new UnexpectedError('LOCK_STORE_CORRUPT', `unexpected redis reply to ${operation}: ${String(reply)}`);
  }
  return reply;
}

function toWhy(value: unknown): 'expired_or_released' | 'other_owner' {
  return value === 'other_owner' ? 'other_owner' : 'expired_or_released';
}
