import { defineApiKeyStoreContract } from '../../test/api-key-store.contract.js';
import { InMemoryApiKeyStore } from './in-memory-api-key-store.js';

defineApiKeyStoreContract('InMemoryApiKeyStore', async () => ({ store: new InMemoryApiKeyStore(), close: async () => undefined }));
