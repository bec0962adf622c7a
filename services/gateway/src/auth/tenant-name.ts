/** What a tenant name may look like, wherever the gateway takes one (key requests, configuration). */

/** Lower-case letters, digits, `.`, `_` and `-`, starting with a letter or digit, at most 63 characters. */
export const TENANT_PATTERN = '^[a-z0-9][a-z0-9._-]{0,62}$';

/** The tenant of keys and tokens that name none. */
export const DEFAULT_TENANT = 'default';
