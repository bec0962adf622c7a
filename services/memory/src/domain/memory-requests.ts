/**
 * The rules a Remember, Recall, List, Update or Forget must meet before anything else sees it;
 * each validator returns the checked spec the store works with. Every rejection is an
 * INVALID_ARGUMENT `UserError` naming the field at fault.
 */
import { invalidField, ownerTenant, tenantScope } from '@maestro/runtime';
import { futureExpiry, limitOf, optionalKind, requireContent, requireKind, requireProject, requireTags } from './field-rules.js';
import { MemoryLimits, MemoryStatuses } from './memory.js';
import type { MemoryKind } from './memory.js';
import { recallScopes, requireScope } from './memory-scope.js';

/** A validated Remember: what a person (or a caller acting for one) wrote. */
export interface RememberSpec {
  /** The tenant the memory belongs to. */
  readonly tenant: string;
  readonly project: string;
  readonly kind: MemoryKind;
  readonly content: string;
  /** Trimmed, distinct, in the order given. */
  readonly tags: readonly string[];
  readonly scope: string;
  readonly pinned: boolean;
  readonly expiresAt: Date | undefined;
}

/** A validated Recall. */
export interface RecallSpec {
  /** Only this tenant's memories; undefined: every tenant's (an internal caller). */
  readonly tenant: string | undefined;
  readonly project: string;
  /** Free text in web-search syntax (`"exact phrase"`, `-not`, `or`); never blank. */
  readonly query: string;
  readonly limit: number;
  /** Only this kind when set. */
  readonly kind: MemoryKind | undefined;
  /** `project` first, then the caller's other scopes. */
  readonly scopes: readonly string[];
}

/** A validated List: a project's memories, newest first. */
export interface ListSpec {
  /** Only this tenant's memories; undefined: every tenant's (an internal caller). */
  readonly tenant: string | undefined;
  readonly project: string;
  readonly kind: MemoryKind | undefined;
  readonly limit: number;
  /** Also retired, superseded and expired memories. */
  readonly includeInactive: boolean;
  /** Only this scope when set. */
  readonly scope: string | undefined;
}

/** Statuses a person may set with Update: retire, or restore. */
export type SettableStatus = typeof MemoryStatuses.active | typeof MemoryStatuses.retired;

/** A validated Update: only the fields that are set change. */
export interface UpdateSpec {
  /** The caller's tenant: another tenant's memory is NOT_FOUND; undefined: any (an internal caller). */
  readonly tenant: string | undefined;
  readonly id: string;
  readonly content?: string;
  readonly pinned?: boolean;
  readonly status?: SettableStatus;
  readonly tags?: readonly string[];
  /** A new expiry, or `null` to remove it. */
  readonly expiresAt?: Date | null;
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Checks a Remember request; scope defaults to `project`, the expiry must be after `now`. */
export function validateRemember(
  input: {
    tenant?: string;
    project: string;
    kind: string;
    content: string;
    tags: readonly string[];
    scope?: string;
    pinned?: boolean;
    expiresAt?: Date | undefined;
  },
  now: Date,
): RememberSpec {
  return {
    tenant: ownerTenant(tenantScope(input.tenant)),
    project: requireProject(input.project),
    kind: requireKind(input.kind),
    content: requireContent(input.content),
    tags: requireTags(input.tags),
    scope: requireScope(input.scope ?? '', 'scope'),
    pinned: input.pinned ?? false,
    expiresAt: futureExpiry(input.expiresAt, now),
  };
}

/** Checks a Recall request; a limit of 0 (unset in proto) means the default, 5. */
export function validateRecall(input: {
  tenant?: string;
  project: string;
  query: string;
  limit: number;
  kind: string;
  scopes?: readonly string[];
}): RecallSpec {
  const tenant = tenantScope(input.tenant);
  const project = requireProject(input.project);
  // Length first: a 1 MB query is refused without scanning it again for blanks.
  if (input.query.length > MemoryLimits.maxQueryLength) {
    throw invalidField('query', `must be at most ${MemoryLimits.maxQueryLength} characters, got ${input.query.length}`);
  }
  const query = input.query.trim();
  if (query === '') {
    throw invalidField('query', 'must not be empty: ask with a few words (List returns a project\'s memories without a query)');
  }
  return {
    tenant,
    project,
    query,
    limit: limitOf(input.limit, MemoryLimits.defaultRecallLimit, MemoryLimits.maxRecallLimit),
    kind: optionalKind(input.kind),
    scopes: recallScopes(input.scopes ?? []),
  };
}

/** Checks a List request; a limit of 0 (unset in proto) means the default, 50. */
export function validateList(input: {
  tenant?: string;
  project: string;
  kind: string;
  limit: number;
  includeInactive?: boolean;
  scope?: string;
}): ListSpec {
  const scope = input.scope ?? '';
  return {
    tenant: tenantScope(input.tenant),
    project: requireProject(input.project),
    kind: optionalKind(input.kind),
    limit: limitOf(input.limit, MemoryLimits.defaultListLimit, MemoryLimits.maxListLimit),
    includeInactive: input.includeInactive ?? false,
    scope: scope.trim() === '' ? undefined : requireScope(scope, 'scope'),
  };
}

/** A validated Forget: the memory, and the caller's tenant (another tenant's memory is "none"). */
export interface ForgetSpec {
  readonly id: string;
  readonly tenant: string | undefined;
}

/** Checks a Forget request. */
export function validateForget(input: { id: string; tenant?: string }): ForgetSpec {
  return { tenant: tenantScope(input.tenant), id: validateMemoryId(input.id) };
}

/** Checks a memory id (a UUID, as Remember returns). */
export function validateMemoryId(id: string): string {
  const trimmed = id.trim();
  if (trimmed.length === 0) throw invalidField('id', 'is required');
  if (!uuid.test(trimmed)) throw invalidField('id', `must be a memory id (a UUID), got "${id}"`);
  return trimmed.toLowerCase();
}

/**
 * Checks an Update request. `status` may be `active` (restore) or `retired`; superseding is
 * Learn's alone. `expiresAt` and `clearExpiry` together are a contradiction.
 */
export function validateUpdate(
  input: {
    tenant?: string;
    id: string;
    content?: string | undefined;
    pinned?: boolean | undefined;
    status?: string | undefined;
    tags: readonly string[];
    setTags: boolean;
    expiresAt?: Date | undefined;
    clearExpiry: boolean;
  },
  now: Date,
): UpdateSpec {
  const tenant = tenantScope(input.tenant);
  const id = validateMemoryId(input.id);
  if (input.expiresAt !== undefined && input.clearExpiry) {
    throw invalidField('expires_at', 'cannot be set together with clear_expiry; send one of them');
  }
  if (!input.setTags && input.tags.length > 0) {
    throw invalidField('tags', 'are only applied with set_tags: true (so that an empty list can clear them)');
  }
  let status: SettableStatus | undefined;
  if (input.status !== undefined) {
    if (input.status !== MemoryStatuses.active && input.status !== MemoryStatuses.retired) {
      throw invalidField('status', `must be "active" (restore) or "retired", got "${input.status}"`);
    }
    status = input.status;
  }
  return {
    tenant,
    id,
    ...(input.content !== undefined ? { content: requireContent(input.content) } : {}),
    ...(input.pinned !== undefined ? { pinned: input.pinned } : {}),
    ...(status !== undefined ? { status } : {}),
    ...(input.setTags ? { tags: requireTags(input.tags) } : {}),
    ...(input.clearExpiry ? { expiresAt: null } : input.expiresAt !== undefined ? { expiresAt: futureExpiry(input.expiresAt, now)! } : {}),
  };
}

/** True when an Update changes nothing. */
export function isEmptyUpdate(spec: UpdateSpec): boolean {
  return (
    spec.content === undefined &&
    spec.pinned === undefined &&
    spec.status === undefined &&
    spec.tags === undefined &&
    spec.expiresAt === undefined
  );
}
