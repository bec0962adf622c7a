/**
 * The tenant a request acts for, as every tenant-owning service reads it. A tenant name confines
 * the call to that tenant's entities; an empty tenant is an internal service caller (the
 * executor, the orchestrator) acting across tenants, whose creates belong to `default` (see
 * docs/tenants.md).
 */
import { isTenantName, TENANT_RULE, Tenants } from '@maestro/contracts';
import { invalidField } from './errors.js';

/** The tenant of a request: undefined for an empty one (every tenant); INVALID_ARGUMENT naming `tenant` for a bad name. */
export function tenantScope(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (!isTenantName(value)) throw invalidField('tenant', TENANT_RULE);
  return value;
}

/** The tenant what a request creates belongs to: its own, or `default` for an internal caller. */
export function ownerTenant(scope: string | undefined): string {
  return scope ?? Tenants.default;
}

/** True when a caller of `scope` may see an entity of `tenant`: its own, or any for an internal caller. */
export function isVisibleTo(tenant: string, scope: string | undefined): boolean {
  return scope === undefined || scope === tenant;
}
