/**
 * Locks in Redis, shared by every lock-manager replica. All state lives in Redis, so replicas
 * agree; each operation is one Lua script (`redis-lock-scripts.ts`), atomic against the others,
 * and reads the time from Redis (`TIME`), so replicas with skewed clocks agree on expiry.
 *
 * Waiting without polling: a request that cannot be granted joins the queue in Redis, marked
 * with the id of the replica whose caller waits. Every script that frees concerns (release,
 * cancel, timeout, expiry) grants, in queue order, every queued request that became grantable
 * and tells each grant to its replica once: in its reply when the replica running it queued the
 * request (the common case: one replica, or a client that keeps its channel to one replica), so
 * the next holder is answered as soon as the freeing script returns; else as a notice on
 * `<prefix>grants`, which each replica reads through one dedicated subscriber connection. Each
 * replica keeps its local waiters (`LocalWaiters`). Nothing is lost for good: notices missed
 * while the subscriber was disconnected are caught by one status read per local waiter when it
 * reconnects — made only once the channel is subscribed again, so every grant is either seen by
 * that read or delivered on the channel — and the same read runs when the command connection
 * is back after a drop that may have taken a reply with grants; at each waiter's deadline one
 * script call settles it either way.
 *
 * Expiry: a sweeper per replica (a `Clock` timer set to the earliest expiry any script
 * reported, and at least every `maxSweepIntervalMs`) runs the sweep script, which removes
 * expired leases, grants waiters, and returns the removed leases: whichever script removes a
 * lease reports it, so exactly one replica tells its `onExpired` listeners.
 *
 * Scripts build lease and waiter keys from the prefix, so this needs a standalone Redis (or a
 * single slot), not Redis Cluster.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { createSilentLogger, OperationalError, UnexpectedError, isMaestroError, systemClock } from '@maestro/runtime';
import type { Clock, Logger, Timer } from '@maestro/runtime';
import { fenced, LockErrorCodes, lockNotHeld, storeClosing } from '../domain/lock-errors.js';
import type { Blocker } from '../domain/lock-errors.js';
import type { AcquireOutcome, Waiter } from '../domain/lock-table.js';
import type { AcquireSpec, CheckFenceSpec, ExtendSpec, Lease, ReleaseSpec } from '../domain/lease.js';
import { matchesPrefix } from './lock-store.js';
import type { AcquireOptions, ExpiredListener, LockSnapshot, LockStore } from './lock-store.js';
import { LocalWaiters } from './queued-acquire.js';
import type { QueueBackend } from './queued-acquire.js';
import {
  acquireScript,
  cancelScript,
  checkFenceScript,
  extendScript,
  inspectScript,
  releaseScript,
  sweepScript,
  timeoutScript,
} from './redis-lock-scripts.js';

/** The key prefix used when none is configured. */
export const DEFAULT_LOCK_KEY_PREFIX = 'maestro:lock:';

/** Options of {@link RedisLockStore}. */
export interface RedisLockStoreOptions {
  /** The command connection; the store never closes it (its owner does). */
  redis: Redis;
  /**
   * A dedicated connection for the grant channel (a subscribed connection can run nothing
   * else). When given, its owner closes it. @default redis.duplicate(), closed by `close()`
   */
  subscriber?: Redis;
  /** Prefix of every key and of the channel; tests use a unique one per run. @default 'maestro:lock:' */
  keyPrefix?: string;
  /** Clock of the local timers (wait deadlines, sweeper); expiry itself uses Redis's clock. @default systemClock */
  clock?: Clock;
  /** Makes request (and lease) ids. @default crypto.randomUUID */
  newRequestId?: () => string;
  /**
   * Marks this store's queued requests in Redis, so a script it runs answers their grants in
   * its reply instead of on the channel. Unique per store instance. @default crypto.randomUUID()
   */
  replicaId?: string;
  /**
   * Longest pause between two sweeps, so leases granted by a replica that crashed (whose
   * expiries this replica never heard of) still expire and free their waiters. @default 5000
   */
  maxSweepIntervalMs?: number;
  /** Where failed sweeps, status checks and hand-backs are logged. @default a silent logger */
  logger?: Logger;
  /**
   * How long `close()` waits for script calls still in flight, so a grant or queue entry they
   * make for a caller that already got an error is handed back before the connections go. @default 5000
   */
  closeTimeoutMs?: number;
}

const defaults = { keyPrefix: DEFAULT_LOCK_KEY_PREFIX, maxSweepIntervalMs: 5_000, closeTimeoutMs: 5_000 } as const;

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
  timeout: new LuaScript('timeout', timeoutScript),
  cancel: new LuaScript('cancel', cancelScript),
  release: new LuaScript('release', releaseScript),
  extend: new LuaScript('extend', extendScript),
  sweep: new LuaScript('sweep', sweepScript),
  checkFence: new LuaScript('checkFence', checkFenceScript),
  inspect: new LuaScript('inspect', inspectScript),
} as const;

/** The common tail of every mutating script's reply. */
interface MutationReply {
  status: string;
  payload: unknown[];
  rest: unknown[];
}

/** A {@link LockStore} in Redis (ioredis): all state in Redis, grants pushed over pub/sub. */
export class RedisLockStore implements LockStore {
  private readonly redis: Redis;
  private readonly subscriber: Redis;
  private readonly ownsSubscriber: boolean;
  private readonly prefix: string;
  private readonly clock: Clock;
  private readonly newRequestId: () => string;
  private readonly replicaId: string;
  private readonly maxSweepIntervalMs: number;
  private readonly logger: Logger;
  private readonly waiters: LocalWaiters;
  private readonly expiredListeners = new Set<ExpiredListener>();
  private readonly backend: QueueBackend;
  private subscribed: Promise<void> | undefined;
  private sweeper: { timer: Timer; due: number } | undefined;
  private closed = false;

  constructor(options: RedisLockStoreOptions) {
    this.redis = options.redis;
    this.ownsSubscriber = options.subscriber === undefined;
    this.subscriber = options.subscriber ?? options.redis.duplicate();
    this.prefix = options.keyPrefix ?? defaults.keyPrefix;
    this.clock = options.clock ?? systemClock;
    this.newRequestId = options.newRequestId ?? randomUUID;
    this.replicaId = options.replicaId ?? randomUUID();
    this.maxSweepIntervalMs = options.maxSweepIntervalMs ?? defaults.maxSweepIntervalMs;
    this.logger = options.logger ?? createSilentLogger();
    this.waiters = new LocalWaiters({
      clock: this.clock,
      logger: this.logger,
      closeTimeoutMs: options.closeTimeoutMs ?? defaults.closeTimeoutMs,
    });
    this.subscriber.on('message', this.onMessage);
    this.subscriber.on('ready', this.onSubscriberReady);
    this.redis.on('ready', this.onCommandReady);
    this.backend = {
      acquire: async (id, spec) => {
        // The channel must be live before the request can be queued, or its grant could be missed.
        if (spec.waitMs > 0) await this.ensureSubscribed();
        if (this.closed) throw storeClosing();
        return this.toOutcome(await this.mutate(scripts.acquire, [id, spec.owner, ...this.specArgs(spec), spec.waitMs]), spec, id);
      },
      timeout: async (id, spec) => this.toOutcome(await this.mutate(scripts.timeout, [id, spec.owner, ...this.specArgs(spec)]), spec, id),
      cancel: async (id) => {
        const reply = await this.mutate(scripts.cancel, [id]);
        return reply.payload.length > 0 ? toLease(reply.payload) : undefined;
      },
    };
    this.armSweeper(0);
  }

  acquire(spec: AcquireSpec, options: AcquireOptions = {}): Promise<Lease> {
    if (this.closed) return Promise.reject(storeClosing());
    return this.waiters.acquire(this.backend, this.newRequestId(), spec, options);
  }

  async extend(spec: ExtendSpec): Promise<Lease> {
    const reply = await this.mutate(scripts.extend, [spec.leaseId, spec.owner, spec.ttlMs]);
    if (reply.status === 'extended') return toLease(reply.payload);
    throw lockNotHeld(spec.leaseId, spec.owner, reply.status === 'other_owner' ? 'other_owner' : 'expired_or_released');
  }

  async release(spec: ReleaseSpec): Promise<Lease | undefined> {
    const reply = await this.mutate(scripts.release, [spec.leaseId, spec.owner]);
    switch (reply.status) {
      case 'released':
        return toLease(reply.payload);
      case 'gone':
        return undefined;
      case 'other_owner':
        throw lockNotHeld(spec.leaseId, spec.owner, 'other_owner');
      case 'unknown':
        throw lockNotHeld(spec.leaseId, spec.owner, 'no_such_lease');
      default:
        throw corrupt(`unexpected release status ${reply.status}`);
    }
  }

  async checkFence(spec: CheckFenceSpec): Promise<Lease> {
    const [status, payload] = asArray(await this.run(scripts.checkFence, [spec.leaseId, String(spec.fencingToken)]), 'checkFence');
    if (status === 'ok') return toLease(asArray(payload, 'checkFence'));
    const newest = payload === '' || payload === undefined ? undefined : Number(payload);
    throw fenced(spec.leaseId, spec.fencingToken, status === 'token_mismatch' ? 'token_mismatch' : 'not_live', newest);
  }

  async inspect(concernPrefix: string): Promise<LockSnapshot> {
    const [leaseRows, waiterRows] = asArray(await this.run(scripts.inspect, []), 'inspect');
    const leases = asArray(leaseRows, 'inspect').map((row) => toLease(asArray(row, 'inspect')));
    const waiters = asArray(waiterRows, 'inspect').map((row): Waiter => {
      const [id, owner, cj, sj, queuedAt, deadline, ttl] = asArray(row, 'inspect');
      return {
        waiterId: String(id),
        owner: String(owner),
        concerns: parseNames(cj),
        sharedConcerns: parseNames(sj),
        ttlMs: Number(ttl),
        queuedAt: Number(queuedAt),
        deadline: Number(deadline),
      };
    });
    return {
      leases: leases.filter((lease) => matchesPrefix(lease, concernPrefix)),
      waiters: waiters.filter((waiter) => matchesPrefix(waiter, concernPrefix)),
    };
  }

  onExpired(listener: ExpiredListener): () => void {
    this.expiredListeners.add(listener);
    return () => this.expiredListeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.sweeper?.timer.cancel();
    this.sweeper = undefined;
    // Leave the queue on the way out and hand back grants of calls still in flight, so nobody
    // waits behind (or for) requests nobody will take.
    await this.waiters.close(storeClosing());
    this.subscriber.off('message', this.onMessage);
    this.subscriber.off('ready', this.onSubscriberReady);
    this.redis.off('ready', this.onCommandReady);
    if (this.ownsSubscriber) this.subscriber.disconnect();
    else await this.subscriber.unsubscribe(this.channel).catch(() => undefined);
  }

  private readonly onMessage = (channel: string, message: string): void => {
    if (channel !== this.channel) return;
    const [id, token, expiresAt] = message.split(' ');
    if (id === undefined || token === undefined || expiresAt === undefined) return;
    this.waiters.granted(id, { fencingToken: Number(token), expiresAt: Number(expiresAt) });
  };

  /**
   * After a reconnect, notices may have been missed. ioredis emits `ready` before it re-sends
   * SUBSCRIBE, so a status read made right away could run before the channel is back and miss
   * a grant published in between. So: subscribe (again) and wait for Redis to confirm it, then
   * read each local waiter's status once. Any grant is either before that read (seen by it) or
   * after the subscription (delivered on the channel).
   */
  private readonly onSubscriberReady = (): void => {
    // Never subscribed: nothing can have been missed, and the first queued acquire subscribes.
    if (this.subscribed === undefined || this.closed) return;
    this.subscribed = undefined;
    this.ensureSubscribed().then(
      () => this.readMissedGrants(),
      (err: unknown) => this.logger.warn('lock grant channel resubscribe failed', { err }),
    );
  };

  /**
   * The command connection is (back) up. A drop may have taken the reply of a script that
   * granted waiters of this replica (ioredis may re-send that command, but its second run finds
   * them granted already and does not report them again): one status read per local waiter
   * finds those grants.
   */
  private readonly onCommandReady = (): void => {
    this.readMissedGrants();
  };

  /** One status read per local waiter: resolves those granted while their notice or reply could not arrive. */
  private readMissedGrants(): void {
    if (this.closed) return;
    for (const id of this.waiters.pendingIds()) {
      this.redis.hmget(`${this.prefix}waiter:${id}`, 'status', 'token', 'expiresAt').then(
        ([status, token, expiresAt]) => {
          if (status === 'granted') this.waiters.granted(id, { fencingToken: Number(token), expiresAt: Number(expiresAt) });
        },
        (err: unknown) => this.logger.warn('lock waiter status check failed', { err, requestId: id }),
      );
    }
  }

  private ensureSubscribed(): Promise<void> {
    this.subscribed ??= this.subscriber.subscribe(this.channel).then(
      () => undefined,
      (err: unknown) => {
        this.subscribed = undefined;
        throw unavailable('subscribe', err);
      },
    );
    return this.subscribed;
  }

  private specArgs(spec: AcquireSpec): Array<string | number> {
    return [JSON.stringify(spec.concerns), JSON.stringify(spec.sharedConcerns), spec.ttlMs];
  }

  private toOutcome(reply: MutationReply, spec: AcquireSpec, id: string): AcquireOutcome {
    if (reply.status === 'granted') return { kind: 'granted', lease: toLease(reply.payload) };
    const blocker = toBlocker(reply.payload);
    if (reply.status === 'refused') return { kind: 'refused', blocker };
    if (reply.status !== 'queued') throw corrupt(`unexpected acquire status ${reply.status}`);
    const [queuedAt, deadline] = asArray(reply.rest[0], 'acquire');
    const waiter: Waiter = {
      waiterId: id,
      owner: spec.owner,
      concerns: [...spec.concerns],
      sharedConcerns: [...spec.sharedConcerns],
      ttlMs: spec.ttlMs,
      queuedAt: Number(queuedAt),
      deadline: Number(deadline),
    };
    return { kind: 'queued', waiter, blocker };
  }

  /**
   * Runs a script that may expire leases and grant waiters. Its grants of this replica's waiters
   * come in the reply and are resolved here, first, so the next holder's answer goes out before
   * anything else this reply causes. Then it reports the expired leases and re-arms the sweeper.
   */
  private async mutate(script: LuaScript, args: ReadonlyArray<string | number>): Promise<MutationReply> {
    const [status, payload, expired, nextDelta, grants, ...rest] = asArray(await this.run(script, args), script.name);
    for (const row of asArray(grants, script.name)) {
      const [id, token, expiresAt] = asArray(row, script.name);
      this.waiters.granted(String(id), { fencingToken: Number(token), expiresAt: Number(expiresAt) });
    }
    for (const row of asArray(expired, script.name)) {
      const lease = toLease(asArray(row, script.name));
      for (const listener of this.expiredListeners) listener(lease);
    }
    const delta = Number(nextDelta);
    if (delta >= 0) this.armSweeper(delta);
    return { status: String(status), payload: asArray(payload, script.name), rest };
  }

  private armSweeper(inMs: number): void {
    if (this.closed) return;
    const wait = Math.min(Math.max(0, inMs), this.maxSweepIntervalMs);
    const due = this.clock.now() + wait;
    if (this.sweeper && this.sweeper.due <= due) return;
    this.sweeper?.timer.cancel();
    this.sweeper = {
      due,
      timer: this.clock.setTimer(wait, () => {
        this.sweeper = undefined;
        this.mutate(scripts.sweep, [])
          .catch((err: unknown) => this.logger.warn('lock sweep failed', { err }))
          .finally(() => this.armSweeper(this.maxSweepIntervalMs));
      }),
    };
  }

  private async run(script: LuaScript, args: ReadonlyArray<string | number>): Promise<unknown> {
    try {
      return await script.run(this.redis, [this.fenceKey, this.leasesKey, this.queueKey], [this.prefix, this.replicaId, ...args]);
    } catch (err) {
      if (isMaestroError(err)) throw err;
      throw unavailable(script.name, err);
    }
  }

  private get channel(): string {
    return `${this.prefix}grants`;
  }

  private get fenceKey(): string {
    return `${this.prefix}fence`;
  }

  private get leasesKey(): string {
    return `${this.prefix}leases`;
  }

  private get queueKey(): string {
    return `${this.prefix}queue`;
  }
}

/** A Redis that is down or unreachable is transient: callers may retry (UNAVAILABLE). */
function unavailable(operation: string, err: unknown): OperationalError {
  return new OperationalError(
    LockErrorCodes.storeUnavailable,
    `lock store (redis) failed during ${operation}: ${err instanceof Error ? err.message : String(err)}`,
    { cause: err },
  );
}

function corrupt(message: string): UnexpectedError {
  return new UnexpectedError(LockErrorCodes.storeCorrupt, message);
}

function asArray(reply: unknown, operation: string): unknown[] {
  if (!Array.isArray(reply)) throw corrupt(`unexpected redis reply to ${operation}: ${String(reply)}`);
  return reply;
}

function parseNames(json: unknown): string[] {
  const parsed: unknown = JSON.parse(String(json));
  if (!Array.isArray(parsed)) throw corrupt(`malformed concern list in redis: ${String(json)}`);
  return parsed.map(String);
}

function toLease(row: unknown[]): Lease {
  const [leaseId, owner, cj, sj, token, expiresAt] = row;
  return {
    leaseId: String(leaseId),
    owner: String(owner),
    concerns: parseNames(cj),
    sharedConcerns: parseNames(sj),
    fencingToken: Number(token),
    expiresAt: Number(expiresAt),
  };
}

function toBlocker(row: unknown[]): Blocker {
  const [concern, heldConcern, heldMode, owner, leaseId, queued] = row;
  return {
    concern: String(concern),
    heldConcern: String(heldConcern),
    heldMode: heldMode === 'shared' ? 'shared' : 'exclusive',
    owner: String(owner),
    leaseId: String(leaseId),
    queued: queued === '1',
  };
}
