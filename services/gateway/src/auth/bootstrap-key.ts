/**
 * The operator's key from the configuration (`MAESTRO_GATEWAY_BOOTSTRAP_KEY`): stored, hashed, as
 * the one operator key at every start (a rotated key retires the old one), so a fresh cluster
 * has an admin from its first second. Without it and with no key stored, the gateway says how
 * to create the first key.
 *
 * A revocation wins over the configuration: a bootstrap key an admin revoked (through the API or
 * `maestro keys revoke`) stays revoked when the gateway restarts with the same key configured,
 * and the gateway says so at start; configuring a new key is how the operator gets one back.
 */
import { UnexpectedError, type Clock, type Logger } from '@maestro/runtime';
import { hashSecret, parseApiKey } from './api-key.js';
import type { ApiKeyStore } from './api-key-store.js';

/** What {@link installBootstrapKey} needs. */
export interface BootstrapKeyOptions {
  /** The key text; '' when none is configured. */
  key: string;
  tenant: string;
  clock: Clock;
  logger: Logger;
}

/** What the gateway logs when nobody could call it. */
export const NO_KEYS_HINT =
  'no API keys exist and MAESTRO_GATEWAY_BOOTSTRAP_KEY is not set, so every request is refused: set MAESTRO_GATEWAY_BOOTSTRAP_KEY to an admin key (maestro up generates one), restart, then create keys with POST /v1/keys or maestro keys create';

/** What the gateway logs when the configured bootstrap key was revoked. */
export const REVOKED_BOOTSTRAP_HINT =
  'MAESTRO_GATEWAY_BOOTSTRAP_KEY names a key that was revoked, so it stays revoked and is not installed: set MAESTRO_GATEWAY_BOOTSTRAP_KEY to a new key (mk_<id>_<secret>; maestro up generates one) and restart';

/** Stores the configured bootstrap key (or warns that there is no way in). */
export async function installBootstrapKey(store: ApiKeyStore, options: BootstrapKeyOptions): Promise<void> {
  if (options.key === '') {
    if ((await store.countActive()) === 0) options.logger.warn(NO_KEYS_HINT);
    return;
  }
  const parts = parseApiKey(options.key);
  // The configuration was validated; this is a programming error.
  if (!parts) throw new UnexpectedError('BAD_BOOTSTRAP_KEY', 'the bootstrap key is not an API key');
  const secretHash = hashSecret(parts.secret);
  const stored = await store.get(parts.keyId);
  if (stored?.revokedAt !== undefined && stored.secretHash === secretHash) {
    options.logger.error(REVOKED_BOOTSTRAP_HINT, { keyId: parts.keyId, revokedAt: stored.revokedAt.toISOString() });
    return;
  }
  await store.upsertOperator({
    id: parts.keyId,
    name: 'bootstrap (operator)',
    tenant: options.tenant,
    scopes: ['admin'],
    secretHash,
    operator: true,
    createdAt: new Date(options.clock.now()),
  });
  options.logger.info('bootstrap key installed', { keyId: parts.keyId, tenant: options.tenant });
}
