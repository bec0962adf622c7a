/**
 * The one contract every `ApiKeyStore` adapter passes: create and read back (never more than the
 * hash), ids unique, lists per tenant oldest first, revocation (idempotent, tenant-bound),
 * last use, and the operator key's upsert that retires a rotated one.
 */
import { UserError } from '@maestro/runtime';
import { hashSecret } from '../src/auth/api-key.js';
import type { ApiKeyStore, NewApiKey } from '../src/auth/api-key-store.js';

/** What a contract run needs from an adapter: a fresh, empty store per test. */
export interface ApiKeyStoreHarness {
  store: ApiKeyStore;
  /** Frees what the harness made. */
  close(): Promise<void>;
}

const t0 = new Date('2030-01-01T00:00:00.000Z');
const later = (seconds: number): Date => new Date(t0.getTime() + seconds * 1000);

function key(id: string, overrides: Partial<NewApiKey> = {}): NewApiKey {
  return { id, name: `key ${id}`, tenant: 'acme', scopes: ['read'], secretHash: hashSecret(`secret of ${id}`), operator: false, createdAt: t0, ...overrides };
}

/** Runs the ApiKeyStore contract against the adapter `factory` makes, one fresh store per test. */
export function defineApiKeyStoreContract(name: string, factory: () => Promise<ApiKeyStoreHarness>): void {
  describe(`ApiKeyStore contract: ${name}`, () => {
    let h: ApiKeyStoreHarness;
    let store: ApiKeyStore;

    beforeEach(async () => {
      h = await factory();
      store = h.store;
    });
    afterEach(async () => {
      await h.close();
    });

    it('stores a key and reads it back by id, with its hash and without revocation or use', async () => {
      const created = await store.create(key('aaaaaaaaaaaa', { scopes: ['read', 'submit'] }));
      expect(created).toEqual(key('aaaaaaaaaaaa', { scopes: ['read', 'submit'] }));
      expect(await store.get('aaaaaaaaaaaa')).toEqual(created);
      expect(await store.get('bbbbbbbbbbbb')).toBeUndefined();
    });

    it('refuses a second key with the same id as API_KEY_EXISTS', async () => {
      await store.create(key('aaaaaaaaaaaa'));
      const second = store.create(key('aaaaaaaaaaaa', { tenant: 'other' }));
      await expect(second).rejects.toBeInstanceOf(UserError);
      await expect(second).rejects.toMatchObject({ code: 'API_KEY_EXISTS', reason: 'already_exists' });
      expect((await store.get('aaaaaaaaaaaa'))?.tenant).toBe('acme');
    });

    it('lists one tenant\'s keys, or every tenant\'s, oldest first', async () => {
      await store.create(key('cccccccccccc', { createdAt: later(2) }));
      await store.create(key('aaaaaaaaaaaa', { createdAt: later(1) }));
      await store.create(key('bbbbbbbbbbbb', { tenant: 'globex', createdAt: later(0) }));
      expect((await store.list('acme')).map((k) => k.id)).toEqual(['aaaaaaaaaaaa', 'cccccccccccc']);
      expect((await store.list('globex')).map((k) => k.id)).toEqual(['bbbbbbbbbbbb']);
      expect((await store.list()).map((k) => k.id)).toEqual(['bbbbbbbbbbbb', 'aaaaaaaaaaaa', 'cccccccccccc']);
      expect(await store.list('nobody')).toEqual([]);
    });

    it('revokes a key once: revoking again keeps the first time', async () => {
      await store.create(key('aaaaaaaaaaaa'));
      expect((await store.revoke('aaaaaaaaaaaa', later(10)))?.revokedAt).toEqual(later(10));
      expect((await store.revoke('aaaaaaaaaaaa', later(20)))?.revokedAt).toEqual(later(10));
      expect((await store.get('aaaaaaaaaaaa'))?.revokedAt).toEqual(later(10));
      expect(await store.countActive()).toBe(0);
    });

    it('revokes only within the given tenant, and nothing that does not exist', async () => {
      await store.create(key('aaaaaaaaaaaa'));
      expect(await store.revoke('aaaaaaaaaaaa', later(10), 'globex')).toBeUndefined();
      expect((await store.get('aaaaaaaaaaaa'))?.revokedAt).toBeUndefined();
      expect((await store.revoke('aaaaaaaaaaaa', later(10), 'acme'))?.revokedAt).toEqual(later(10));
      expect(await store.revoke('zzzzzzzzzzzz', later(10))).toBeUndefined();
    });

    it('records when a key was last used', async () => {
      await store.create(key('aaaaaaaaaaaa'));
      await store.touch('aaaaaaaaaaaa', later(5));
      await store.touch('aaaaaaaaaaaa', later(7));
      expect((await store.get('aaaaaaaaaaaa'))?.lastUsedAt).toEqual(later(7));
      await store.touch('zzzzzzzzzzzz', later(7));
      expect(await store.get('zzzzzzzzzzzz')).toBeUndefined();
    });

    it('counts the keys that are not revoked', async () => {
      expect(await store.countActive()).toBe(0);
      await store.create(key('aaaaaaaaaaaa'));
      await store.create(key('bbbbbbbbbbbb', { tenant: 'globex' }));
      await store.revoke('aaaaaaaaaaaa', later(1));
      expect(await store.countActive()).toBe(1);
    });

    it('upserts the operator key: stored once, updated and un-revoked in place, and a rotated one retires the old', async () => {
      const operator = key('opopopopopop', { name: 'bootstrap', tenant: 'default', scopes: ['admin'], operator: true });
      await store.upsertOperator(operator);
      await store.upsertOperator({ ...operator, createdAt: later(60) });
      expect(await store.list()).toEqual([operator]);

      await store.revoke('opopopopopop', later(61));
      await store.upsertOperator({ ...operator, tenant: 'ops', createdAt: later(62) });
      expect(await store.get('opopopopopop')).toMatchObject({ tenant: 'ops', operator: true, createdAt: t0 });
      expect((await store.get('opopopopopop'))?.revokedAt).toBeUndefined();

      await store.create(key('aaaaaaaaaaaa'));
      const rotated = key('rtrtrtrtrtrt', { tenant: 'default', scopes: ['admin'], operator: true, createdAt: later(100) });
      await store.upsertOperator(rotated);
      expect((await store.get('opopopopopop'))?.revokedAt).toEqual(later(100));
      expect((await store.get('rtrtrtrtrtrt'))?.revokedAt).toBeUndefined();
      // Keys that are not the operator's are left alone.
      expect((await store.get('aaaaaaaaaaaa'))?.revokedAt).toBeUndefined();
      expect(await store.countActive()).toBe(2);
    });
  });
}
