/**
 * Leases: what a holder gets for a set of concerns, and the rules a request must meet before
 * any store sees it. Pure: no I/O, no clock.
 */
import { invalidField } from '@maestro/runtime';
import { isPathWithin, normalizeAbsolutePath, parseConcern, PATH_SPACE_KINDS } from './concern.js';
import type { Concern } from './concern.js';

/**
 * A grant of every concern in `concerns` (exclusive) and `sharedConcerns` (shared) to `owner`
 * until `expiresAt`.
 */
export interface Lease {
  readonly leaseId: string;
  readonly owner: string;
  /** Canonical concern names held exclusively, in the order first requested. */
  readonly concerns: readonly string[];
  /** Canonical concern names held in shared (read) mode. */
  readonly sharedConcerns: readonly string[];
  /**
   * Strictly greater than every token the store granted before it, across all concerns, and
   * at least the store's clock in µs when granted (so it keeps rising after the store loses
   * its state; see `nextFencingToken`).
   */
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

/** A validated acquire: owner, distinct canonical concerns by mode, ttl and wait. */
export interface AcquireSpec {
  readonly owner: string;
  /** Held exclusively. */
  readonly concerns: readonly string[];
  /** Held in shared mode; never also in `concerns`. */
  readonly sharedConcerns: readonly string[];
  readonly ttlMs: number;
  readonly waitMs: number;
}

/** A validated fencing check. */
export interface CheckFenceSpec {
  readonly leaseId: string;
  readonly fencingToken: number;
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

/** The fields of an acquire request, as they arrive (proto names in the error fields). */
export interface AcquireInput {
  owner: string;
  concerns: readonly string[];
  /** @default [] */
  sharedConcerns?: readonly string[] | undefined;
  /** When set, every repo:/dir:/file: concern must lie inside it. @default '' (no bound) */
  repoRoot?: string | undefined;
  ttlMs: number;
  waitMs: number;
}

/**
 * Checks an acquire request and normalizes its concerns (duplicates after normalization are
 * dropped, first spelling's position kept; a concern asked both exclusive and shared is held
 * exclusive); throws an INVALID_ARGUMENT `UserError` naming the first bad field (`owner`,
 * `concerns[3]`, `shared_concerns[0]`, `repo_root`, `ttl_ms` …).
 */
export function validateAcquire(input: AcquireInput): AcquireSpec {
  const owner = requireId(input.owner, 'owner');
  const sharedInput = input.sharedConcerns ?? [];
  const total = input.concerns.length + sharedInput.length;
  if (total === 0) {
    throw invalidField('concerns', 'must name at least one concern (here or in shared_concerns), e.g. file:/repo/src/a.ts');
  }
  if (total > LeaseLimits.maxConcerns) {
    throw invalidField(
      'concerns',
      `concerns and shared_concerns must name at most ${LeaseLimits.maxConcerns} concerns together, got ${total}; lock a dir: instead of its files`,
    );
  }
  const repoRoot = input.repoRoot ? normalizeAbsolutePath(input.repoRoot, 'repo_root', 'repo_root') : undefined;
  const parse = (raw: string, field: string): string => {
    const concern = parseConcern(raw, field);
    if (repoRoot !== undefined) requireInside(concern, repoRoot, field);
    return concern.name;
  };
  const concerns = distinct(input.concerns.map((raw, i) => parse(raw, `concerns[${i}]`)));
  const exclusive = new Set(concerns);
  const sharedConcerns = distinct(sharedInput.map((raw, i) => parse(raw, `shared_concerns[${i}]`))).filter(
    (name) => !exclusive.has(name),
  );
  return {
    owner,
    concerns,
    sharedConcerns,
    ttlMs: requireTtl(input.ttlMs),
    waitMs: requireIntIn(input.waitMs, 'wait_ms', 0, LeaseLimits.maxWaitMs),
  };
}

/** Checks a CheckFence request; throws an INVALID_ARGUMENT `UserError` naming the bad field. */
export function validateCheckFence(input: { leaseId: string; fencingToken: number }): CheckFenceSpec {
  const leaseId = requireId(input.leaseId, 'lease_id');
  if (!Number.isSafeInteger(input.fencingToken) || input.fencingToken < 1) {
    throw invalidField('fencing_token', `must be the positive token of the lease, got ${input.fencingToken}`);
  }
  return { leaseId, fencingToken: input.fencingToken };
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

function requireInside(concern: Concern, repoRoot: string, field: string): void {
  if (PATH_SPACE_KINDS.includes(concern.kind) && !isPathWithin(concern.value, repoRoot)) {
    throw invalidField(field, `${concern.name} is outside repo_root ${repoRoot}`);
  }
}

function distinct(names: readonly string[]): string[] {
  return [...new Set(names)];
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
