/**
 * The port every API key backend implements: keys by id, with their tenant, scopes and the hash
 * of their secret (never the secret). Callers pass the time, so stores hold no clock.
 */
import type { Scope } from './principal.js';

/** A stored API key. */
export interface ApiKeyRecord {
  /** The key's id, the `<keyId>` part of `mk_<keyId>_<secret>`. */
  readonly id: string;
  readonly name: string;
  readonly tenant: string;
  readonly scopes: readonly Scope[];
  /** SHA-256 of the secret, hex (`hashSecret`). */
  readonly secretHash: string;
  /** True for the bootstrap key from the gateway's configuration. */
  readonly operator: boolean;
  readonly createdAt: Date;
  readonly revokedAt?: Date;
  readonly lastUsedAt?: Date;
}

/** What {@link ApiKeyStore.create} stores. */
export type NewApiKey = Omit<ApiKeyRecord, 'revokedAt' | 'lastUsedAt'>;

/** API keys, by id. */
export interface ApiKeyStore {
  /** Stores a new key; throws a UserError `API_KEY_EXISTS` (already_exists) when the id is taken. */
  create(key: NewApiKey): Promise<ApiKeyRecord>;
  /** The key with this id, revoked or not; undefined when there is none. */
  get(id: string): Promise<ApiKeyRecord | undefined>;
  /** The keys of `tenant` (every tenant's when undefined), oldest first. */
  list(tenant?: string): Promise<ApiKeyRecord[]>;
  /**
   * Revokes the key at `at` and returns it; a key revoked before keeps its first `revokedAt`.
   * Undefined when there is no such key, or when `tenant` is given and the key is another's.
   */
  revoke(id: string, at: Date, tenant?: string): Promise<ApiKeyRecord | undefined>;
  /** Records that the key was used at `at`. */
  touch(id: string, at: Date): Promise<void>;
  /**
   * Makes `key` the operator's key: stored (or updated, and un-revoked, when its id exists) with
   * `operator` set, and every other operator key revoked at `key.createdAt`, so rotating the
   * configured bootstrap key retires the old one.
   */
  upsertOperator(key: NewApiKey): Promise<void>;
  /** How many keys are not revoked. */
  countActive(): Promise<number>;
  /** Releases what the store holds (connections). */
  close(): Promise<void>;
}
