/**
 * The RunStore contract against PostgreSQL: one scratch database for the file, emptied before
 * every test so each starts from an empty store, as the contract expects.
 */
import { sql } from 'kysely';
import { defineRunStoreContract } from '../src/store/run-store.contract.js';
import { PostgresRunStore } from '../src/store/postgres-run-store.js';
import { createScratchDatabase, type ScratchDatabase } from './scratch-database.js';

let scratch: ScratchDatabase;

beforeAll(async () => {
  scratch = await createScratchDatabase();
});

afterAll(async () => {
  await scratch?.drop();
});

defineRunStoreContract('postgres', async () => {
  await sql`truncate workflow.history, workflow.runs, workflow.definitions`.execute(scratch.db);
  return { store: new PostgresRunStore(scratch.db), close: async () => undefined };
});
