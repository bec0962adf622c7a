/**
 * Leases: what a holder gets for a set of concerns, and the rules a request must meet before
 * any store sees it. Pure: no I/O, no clock.
 */
import { UserError, invalidField } from '@maestro/runtime';
import { parseConcern } from './concern.js';

/** A grant of every concern in `concerns` to `owner` until `expiresAt`. */
export interface Lease {
  readonly leaseId: string;
  readonly owner: string;
  /** Canonical concern names, in the order first requested. */
  readonly concerns: readonly string[];
  /** Strictly greater than every token granted before it, across all concerns. */
  readonly fencingToken: number;
  /** Milliseconds since the epoch, by the store's clock. */
  readonly expiresAt: number;
}

/** Bounds of a lease request; exported so docs and tests quote the same numbers. */
export const LeaseLimits = {
  /** Shortest lease, in ms. */
  minTtlMs: 1,
  /** Longest lease, one hour: a holder that needs longer extends. */
  maxTtlMs: 3_600_000,
  /** Longest wait for conflicting leases to go, five minutes. */
  maxWaitMs: 300_000,
  /** Most concerns in one lease. */
  maxConcerns: 100,
  /** Longest owner or lease id. */
  maxIdLength: 256,
} as const;

/** A validated acquire: owner, distinct canonical concerns, ttl and wait. */
export interface AcquireSpec {
  readonly owner: string;
  readonly concerns: readonly string[];
  readonly ttlMs: number;
  readonly waitMs: number;
}

/** A validated extend: the lease, who claims it, and its new time to live from now. */
export interface ExtendSpec {
  readonly leaseId: string;
  readonly owner: string;
  readonly ttlMs: number;
}

/** A validated release. */
export interface ReleaseSpec {
  readonly leaseId: string;
  readonly owner: string;
}

/**
 * Checks an acquire request and normalizes its concerns (duplicates after normalization are
 * dropped, first spelling's position kept); throws an INVALID_ARGUMENT `UserError` naming the
 * first bad field (`owner`, `concerns[3]`, `ttl_ms` …).
 */
export function validateAcquire(input: {
  owner: string;
  concerns: readonly string[];
  ttlMs: number;
  waitMs: number;
}): AcquireSpec {
  const owner = requireId(input.owner, 'owner');
  if (input.concerns.length === 0) {
    throw invalidField('concerns', 'must name at least one concern, e.g. file:/repo/src/a.ts');
  }
  if (input.concerns.length > LeaseLimits.maxConcerns) {
    throw invalidField(
      'concerns',
      `must name at most ${LeaseLimits.maxConcerns} concerns, got ${input.concerns.length}; lock a dir: instead of its files`,
    );
  }
  const seen = new Set<string>();
  const concerns: string[] = [];
  input.concerns.forEach((raw, i) => {
    const { name } = parseConcern(raw, `concerns[${i}]`);
    if (!seen.has(name)) {
      seen.add(name);
      concerns.push(name);
    }
  });
  return {
    owner,
    concerns,
    ttlMs: requireTtl(input.ttlMs),
    waitMs: requireIntIn(input.waitMs, 'wait_ms', 0, LeaseLimits.maxWaitMs),
  };
}

/** Checks an extend request; throws an INVALID_ARGUMENT `UserError` naming the bad field. */
export function validateExtend(input: { leaseId: string; owner: string; ttlMs: number }): ExtendSpec {
  return {
    leaseId: requireId(input.leaseId, 'lease_id'),
    owner: requireId(input.owner, 'owner'),
    ttlMs: requireTtl(input.ttlMs),
  };
}

/** Checks a release request; throws an INVALID_ARGUMENT `UserError` naming the bad field. */
export function validateRelease(input: { leaseId: string; owner: string }): ReleaseSpec {
  return { leaseId: requireId(input.leaseId, 'lease_id'), owner: requireId(input.owner, 'owner') };
}

/** The holder of a concern that blocked an acquire. */
export interface Conflict {
  readonly concern: string;
  readonly leaseId: string;
  readonly owner: string;
}

/**
 * The error of an acquire that could not get every concern within its wait: names the held
 * concern and its owner so the caller can tell whom it is waiting on.
 */
export function lockConflict(conflict: Conflict, waitMs: number): UserError {
  const waited = waitMs > 0 ? ` after waiting ${waitMs} ms` : '';
  return new UserError(
    'LOCK_CONFLICT',
    `${conflict.concern} is held by ${conflict.owner} (lease ${conflict.leaseId})${waited}; retry later or wait longer (wait_ms)`,
    { reason: 'precondition', details: { ...conflict, waitMs } },
  );
}

/**
 * The error of an extend or release by someone who does not hold the lease: another owner's
 * lease, or (for extend) a lease that expired or was released. A holder that gets it must stop
 * writing: its concerns may already belong to someone else.
 */
export function lockNotHeld(leaseId: string, owner: string, why: 'expired_or_released' | 'other_owner'): UserError {
  const message =
    why === 'other_owner'
      ? `lease ${leaseId} is not held by ${owner}; only its owner can extend or release it`
      : `lease ${leaseId} is not held (it expired or was released); acquire the concerns again`;
  return new UserError('LOCK_NOT_HELD', message, { reason: 'precondition', details: { leaseId, owner, why } });
}

function requireId(value: string, field: string): string {
  const trimmed = value.trim();
  if (trimmed.length === 0) throw invalidField(field, 'is required');
  if (trimmed.length > LeaseLimits.maxIdLength) {
    throw invalidField(field, `must be at most ${LeaseLimits.maxIdLength} characters, got ${trimmed.length}`);
  }
  return trimmed;
}

function requireTtl(ttlMs: number): number {
  return requireIntIn(ttlMs, 'ttl_ms', LeaseLimits.minTtlMs, LeaseLimits.maxTtlMs);
}

function requireIntIn(value: number, field: string, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw invalidField(field, `must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}
