import { ManualClock } from '@maestro/runtime';
import { RecordingLogger } from '../../test/recording-logger.js';
import { generateApiKey, secretMatches } from './api-key.js';
import { installBootstrapKey, NO_KEYS_HINT } from './bootstrap-key.js';
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
});
