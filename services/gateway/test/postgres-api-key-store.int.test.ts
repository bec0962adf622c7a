/**
 * The PostgreSQL key store against the real server: the gateway's migrations applied to a fresh
 * database, then the ApiKeyStore contract, each test on an emptied table.
 */
import { createDb, migrateToLatest, sql, type Kysely } from '@maestro/db';
import { createSilentLogger } from '@maestro/runtime';
import { createTestDatabase, type TestDatabase } from '@maestro/testing';
import { GATEWAY_SCHEMA, loadGatewayMigrations } from '../src/auth/api-key-migrations.js';
import { PostgresApiKeyStore, type GatewayTables } from '../src/auth/postgres-api-key-store.js';
import { defineApiKeyStoreContract } from './api-key-store.contract.js';

let database: TestDatabase;
let db: Kysely<GatewayTables>;

beforeAll(async () => {
  database = await createTestDatabase('gateway_keys');
  db = createDb<GatewayTables>({ url: database.url, applicationName: 'gateway-keys-test' });
  await migrateToLatest(db, { schema: GATEWAY_SCHEMA, migrations: loadGatewayMigrations(), logger: createSilentLogger() });
});

afterAll(async () => {
  await db?.destroy();
  await database?.drop();
});

defineApiKeyStoreContract('PostgresApiKeyStore', async () => {
  await sql`TRUNCATE gateway.api_keys`.execute(db);
  // The store shares the file's connection, so closing it leaves the pool open for the next test.
  return { store: new PostgresApiKeyStore(db), close: async () => undefined };
});

describe('the gateway schema', () => {
  it('applies its migrations once: a second run finds nothing to do', async () => {
    expect(await migrateToLatest(db, { schema: GATEWAY_SCHEMA, migrations: loadGatewayMigrations(), logger: createSilentLogger() })).toEqual([]);
  });

  it('refuses a key without scopes at the table itself', async () => {
    await expect(
      sql`INSERT INTO gateway.api_keys (id, name, tenant, scopes, secret_hash, created_at) VALUES ('x', 'x', 'x', '{}', 'x', now())`.execute(db),
    ).rejects.toThrow(/check constraint/);
  });
});
