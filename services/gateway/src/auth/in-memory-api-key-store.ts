/**
 * API keys in a map, for tests and for a gateway's own unit tests; the PostgreSQL store is the
 * production one. Passes the same contract (`test/api-key-store.contract.ts`).
 */
import { apiKeyExists } from './api-key-exists.js';
import type { ApiKeyRecord, ApiKeyStore, NewApiKey } from './api-key-store.js';

/** An {@link ApiKeyStore} in process memory. */
export class InMemoryApiKeyStore implements ApiKeyStore {
  private readonly keys = new Map<string, ApiKeyRecord>();

  async create(key: NewApiKey): Promise<ApiKeyRecord> {
    if (this.keys.has(key.id)) throw apiKeyExists(key.id);
    const record: ApiKeyRecord = { ...key, scopes: [...key.scopes] };
    this.keys.set(key.id, record);
    return record;
  }

  async get(id: string): Promise<ApiKeyRecord | undefined> {
    return this.keys.get(id);
  }

  async list(tenant?: string): Promise<ApiKeyRecord[]> {
    return [...this.keys.values()]
      .filter((key) => tenant === undefined || key.tenant === tenant)
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id));
  }

  async revoke(id: string, at: Date, tenant?: string): Promise<ApiKeyRecord | undefined> {
    const key = this.keys.get(id);
    if (!key || (tenant !== undefined && key.tenant !== tenant)) return undefined;
    if (key.revokedAt !== undefined) return key;
    const revoked: ApiKeyRecord = { ...key, revokedAt: at };
    this.keys.set(id, revoked);
    return revoked;
  }

  async touch(id: string, at: Date): Promise<void> {
    const key = this.keys.get(id);
    if (key) this.keys.set(id, { ...key, lastUsedAt: at });
  }

  async upsertOperator(key: NewApiKey): Promise<void> {
    for (const other of this.keys.values()) {
      if (other.operator && other.id !== key.id && other.revokedAt === undefined) this.keys.set(other.id, { ...other, revokedAt: key.createdAt });
    }
    const existing = this.keys.get(key.id);
    const record: ApiKeyRecord = {
      ...key,
      scopes: [...key.scopes],
      operator: true,
      createdAt: existing?.createdAt ?? key.createdAt,
      ...(existing?.lastUsedAt !== undefined ? { lastUsedAt: existing.lastUsedAt } : {}),
    };
    this.keys.set(key.id, record);
  }

  async countActive(): Promise<number> {
    return [...this.keys.values()].filter((key) => key.revokedAt === undefined).length;
  }

  async close(): Promise<void> {
    // Nothing to release.
  }
}
