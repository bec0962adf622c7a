/**
 * Tenants, declared once: every task, run, memory and definition belongs to one. The gateway
 * puts the caller's tenant in each request; the orchestrator, the workflow-engine and memory
 * check it with {@link isTenantName} and act within it. An empty request tenant is an internal
 * service caller acting across tenants (see docs/tenants.md).
 */

/** Tenant names: a lower-case letter or digit, then up to 62 lower-case letters, digits, `_` and `-`. */
export const TENANT_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** Tenant values with a meaning of their own. */
export const Tenants = {
  /** What a create stores when its request came without a tenant (an internal caller). */
  default: 'default',
  /** The tenant of shared workflow definitions (the engine's built-ins): every tenant can read and run them. */
  shared: '',
} as const;

/** True when `name` is a valid tenant name (the empty "internal caller" value is not one). */
export function isTenantName(name: string): boolean {
  return TENANT_PATTERN.test(name);
}

/** What a service says when a request's tenant is not a valid name. */
export const TENANT_RULE = 'must be a tenant name: a lower-case letter or digit, then up to 62 lower-case letters, digits, "_" or "-"';
