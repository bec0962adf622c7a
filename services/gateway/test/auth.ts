/**
 * Authentication for gateway tests: an in-memory key store holding a known admin key of the
 * test tenant, keys of other scopes and tenants on demand, and `authedFetch` that sends a key
 * on every request (tests shadow the global `fetch` with it).
 */
import { createSilentLogger, type Clock } from '@maestro/runtime';
import { formatApiKey, generateApiKey, hashSecret } from '../src/auth/api-key.js';
import { createAuthenticator, type Authenticator } from '../src/auth/authenticator.js';
import { InMemoryApiKeyStore } from '../src/auth/in-memory-api-key-store.js';
import type { Scope } from '../src/auth/principal.js';

/** The tenant the fakes' data and the test admin key belong to. */
export const TEST_TENANT = 'default';

const adminParts = { keyId: 'testadmin000', secret: 'T'.repeat(43) };

/** An admin key of {@link TEST_TENANT} that every {@link createTestAuth} store holds. */
export const TEST_ADMIN_KEY = formatApiKey(adminParts);

/** A key store with the test admin key, and the authenticator over it. */
export interface TestAuth {
  store: InMemoryApiKeyStore;
  authenticator: Authenticator;
  /** Stores a new key with these scopes (of {@link TEST_TENANT} unless told) and returns its text. */
  keyFor(scopes: Scope[], options?: { tenant?: string; operator?: boolean }): Promise<string>;
}

/** A fresh store holding {@link TEST_ADMIN_KEY}. */
export function createTestAuth(clock?: Clock): TestAuth {
  const store = new InMemoryApiKeyStore();
  const createdAt = new Date(Date.parse('2030-01-01T00:00:00.000Z'));
  // The in-memory store keeps a key before its promise settles, so the store is ready at once.
  void store.create({ id: adminParts.keyId, name: 'test admin', tenant: TEST_TENANT, scopes: ['admin'], secretHash: hashSecret(adminParts.secret), operator: false, createdAt });
  return {
    store,
    authenticator: createAuthenticator({ keys: store, logger: createSilentLogger(), ...(clock ? { clock } : {}) }),
    async keyFor(scopes, options = {}) {
      const key = generateApiKey();
      await store.create({
        id: key.keyId,
        name: `test ${scopes.join('+')}`,
        tenant: options.tenant ?? TEST_TENANT,
        scopes,
        secretHash: hashSecret(key.secret),
        operator: options.operator ?? false,
        createdAt,
      });
      return key.key;
    },
  };
}

/** `Authorization: Bearer <key>`. */
export function bearer(key: string): { authorization: string } {
  return { authorization: `Bearer ${key}` };
}

/** `fetch` that sends `key` (the test admin key by default) unless the request sets its own Authorization. */
export function authedFetch(key: string = TEST_ADMIN_KEY): typeof fetch {
  return (input, init = {}) =>
    globalThis.fetch(input, { ...init, headers: { ...bearer(key), ...(init.headers as Record<string, string> | undefined) } });
}
