import { createDb, sql, type Kysely } from '@maestro/db';
import { createSilentLogger } from '@maestro/runtime';
import { createTestDatabase, type TestDatabase } from '@maestro/testing';
import { migrateRouterSchema } from '../src/store/migrations.js';
import { PostgresUsageLedger, type RouterDatabase } from '../src/store/postgres-usage-ledger.js';
import { defineUsageLedgerContract } from './usage-ledger.contract.js';

let database: TestDatabase;
let db: Kysely<RouterDatabase>;

beforeAll(async () => {
  database = await createTestDatabase('router_ledger_test');
  db = createDb<RouterDatabase>({ url: database.url, maxConnections: 4 });
  await migrateRouterSchema(db, createSilentLogger());
});

afterAll(async () => {
  await db.destroy();
  await database.drop();
});

defineUsageLedgerContract('postgres', async () => {
  await sql`truncate router.model_calls, router.subtask_verdicts`.execute(db);
  return new PostgresUsageLedger(db);
});
