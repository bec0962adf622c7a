/**
 * A fresh PostgreSQL database per test file, migrated to the workflow schema, dropped after.
 * Uses kysely + pg directly (see the README for why not `@maestro/testing` yet).
 */
import { randomBytes } from 'node:crypto';
import { Kysely, Migrator, PostgresDialect, type MigrationProvider } from 'kysely';
import pg from 'pg';
import { workflowMigrations, WORKFLOW_SCHEMA } from '../src/store/migrations.js';
import type { WorkflowDatabase } from '../src/store/workflow-database.js';

const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** A migrated scratch database and how to get rid of it. */
export interface ScratchDatabase {
  url: string;
  db: Kysely<WorkflowDatabase>;
  drop(): Promise<void>;
}

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** Creates `we_test_<random>` and applies the workflow migrations to it. */
export async function createScratchDatabase(): Promise<ScratchDatabase> {
  const name = `we_test_${randomBytes(6).toString('hex')}`;
  await admin(`create database ${name}`);
  const url = `postgres://postgres@127.0.0.1:5432/${name}`;
  const db = new Kysely<WorkflowDatabase>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 5 }) }) });
  const provider: MigrationProvider = { getMigrations: async () => workflowMigrations };
  const { error } = await new Migrator({ db, provider, migrationTableSchema: WORKFLOW_SCHEMA }).migrateToLatest();
  if (error !== undefined) throw error;
  return {
    url,
    db,
    drop: async () => {
      await db.destroy();
      await admin(`drop database if exists ${name} with (force)`);
    },
  };
}
