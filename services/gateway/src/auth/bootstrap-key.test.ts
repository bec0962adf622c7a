import { ManualClock } from '@maestro/runtime';
import { RecordingLogger } from '../../test/recording-logger.js';
import { generateApiKey, secretMatches } from './api-key.js';
import { installBootstrapKey, NO_KEYS_HINT, REVOKED_BOOTSTRAP_HINT } from './bootstrap-key.js';
import { InMemoryApiKeyStore } from './in-memory-api-key-store.js';

const clock = new ManualClock(Date.parse('2030-01-01T00:00:00.000Z'));

describe('installBootstrapKey', () => {
  it('stores the configured key, hashed, as the operator\'s admin key of the bootstrap tenant', async () => {
    const store = new InMemoryApiKeyStore();
    const key = generateApiKey();
    const logger = new RecordingLogger();
    await installBootstrapKey(store, { key: key.key, tenant: 'ops', clock, logger });
    const stored = await store.get(key.keyId);
    expect(stored).toMatchObject({ tenant: 'ops', scopes: ['admin'], operator: true });
    expect(secretMatches(key.secret, stored!.secretHash)).toBe(true);
    expect(JSON.stringify(stored)).not.toContain(key.secret);
    expect(logger.find('bootstrap key installed')[0]?.fields).toEqual({ keyId: key.keyId, tenant: 'ops' });
    expect(JSON.stringify(logger.lines)).not.toContain(key.secret);
  });

  it('says how to create the first key when none is configured and none is stored', async () => {
    const logger = new RecordingLogger();
    await installBootstrapKey(new InMemoryApiKeyStore(), { key: '', tenant: 'default', clock, logger });
    expect(logger.lines).toEqual([{ level: 'warn', message: NO_KEYS_HINT, fields: {} }]);
  });

  it('stays quiet without a configured key when keys exist', async () => {
    const store = new InMemoryApiKeyStore();
    await installBootstrapKey(store, { key: generateApiKey().key, tenant: 'default', clock, logger: new RecordingLogger() });
    const logger = new RecordingLogger();
    await installBootstrapKey(store, { key: '', tenant: 'default', clock, logger });
    expect(logger.lines).toEqual([]);
  });

  it('leaves a revoked bootstrap key revoked when the gateway starts again with it configured, and says so', async () => {
    const store = new InMemoryApiKeyStore();
    const key = generateApiKey();
    await installBootstrapKey(store, { key: key.key, tenant: 'ops', clock, logger: new RecordingLogger() });
    const revokedAt = new Date(clock.now() + 1_000);
    await store.revoke(key.keyId, revokedAt);

    const logger = new RecordingLogger();
    await installBootstrapKey(store, { key: key.key, tenant: 'ops', clock, logger });
    expect((await store.get(key.keyId))?.revokedAt).toEqual(revokedAt);
    expect(await store.countActive()).toBe(0);
    expect(logger.lines).toEqual([{ level: 'error', message: REVOKED_BOOTSTRAP_HINT, fields: { keyId: key.keyId, revokedAt: revokedAt.toISOString() } }]);
    expect(JSON.stringify(logger.lines)).not.toContain(key.secret);
  });

  it('installs a new bootstrap key after the old one was revoked, and the old one stays revoked', async () => {
    const store = new InMemoryApiKeyStore();
    const old = generateApiKey();
    await installBootstrapKey(store, { key: old.key, tenant: 'ops', clock, logger: new RecordingLogger() });
    await store.revoke(old.keyId, new Date(clock.now()));
    const rotated = generateApiKey();
    await installBootstrapKey(store, { key: rotated.key, tenant: 'ops', clock, logger: new RecordingLogger() });
    expect((await store.get(rotated.keyId))?.revokedAt).toBeUndefined();
    expect((await store.get(old.keyId))?.revokedAt).toBeDefined();
  });
});
