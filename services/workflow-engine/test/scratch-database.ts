/**
 * A fresh PostgreSQL database per test file (`@maestro/testing`), migrated with the service's
 * own migrations exactly as `migrate.ts` applies them, dropped afterwards.
 */
import { createDb, type Kysely } from '@maestro/db';
import { createSilentLogger } from '@maestro/runtime';
import { createTestDatabase } from '@maestro/testing';
import { migrateWorkflowSchema } from '../src/store/migrations.js';
import type { WorkflowDatabase } from '../src/store/workflow-database.js';

/** A migrated scratch database and how to get rid of it. */
export interface ScratchDatabase {
  url: string;
  db: Kysely<WorkflowDatabase>;
  drop(): Promise<void>;
}

/** Creates a database and applies the workflow migrations to it. */
export async function createScratchDatabase(): Promise<ScratchDatabase> {
  const database = await createTestDatabase('workflow_engine_test');
  const db = createDb<WorkflowDatabase>({ url: database.url, maxConnections: 5 });
  await migrateWorkflowSchema(db, createSilentLogger());
  return {
    url: database.url,
    db,
    drop: async () => {
      await db.destroy();
      await database.drop();
    },
  };
}
