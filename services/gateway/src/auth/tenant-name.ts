/**
 * What a tenant name may look like, wherever the gateway takes one (key requests, configuration,
 * an OIDC token's tenant claim): the one rule of `@maestro/contracts`, which every upstream
 * service checks too, so a key or token the gateway accepts never names a tenant they refuse.
 */
import { TENANT_PATTERN as TENANT_REGEXP, TENANT_RULE, Tenants, isTenantName } from '@maestro/contracts';

/** The tenant name rule as a JSON-schema pattern (the request schemas take it as text). */
export const TENANT_PATTERN = TENANT_REGEXP.source;

/** The tenant of keys and tokens that name none. */
export const DEFAULT_TENANT = Tenants.default;

export { isTenantName, TENANT_RULE };
