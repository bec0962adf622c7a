/**
 * The migrations of the `workflow` schema, applied in name order by `@maestro/db`'s
 * `migrateToLatest` (run `node dist/migrate.js` before the service starts).
 */
import { sql, type Kysely, type Migration } from 'kysely';
import { migrateToLatest } from '@maestro/db';
import type { Logger } from '@maestro/runtime';

/** The schema the workflow-engine owns; no other service reads it. */
export const WORKFLOW_SCHEMA = 'workflow';

/** Every migration by name; names sort in the order they apply. */
export const workflowMigrations: Record<string, Migration> = {
  '0001_init': {
    // Migrations see the database untyped: they describe how it comes to have its types.
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.createSchema(WORKFLOW_SCHEMA).ifNotExists().execute();
      const schema = db.schema.withSchema(WORKFLOW_SCHEMA);

      await schema
        .createTable('definitions')
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull().check(sql`version > 0`))
        .addColumn('definition', 'jsonb', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addPrimaryKeyConstraint('definitions_pk', ['name', 'version'])
        .execute();

      await schema
        .createTable('runs')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('definition_name', 'text', (c) => c.notNull())
        .addColumn('definition_version', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('running', 'done', 'failed', 'cancelled')`))
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('attempt', 'integer', (c) => c.notNull().check(sql`attempt > 0`))
        .addColumn('visits', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
        .addColumn('snapshot', 'jsonb', (c) => c.notNull())
        .addColumn('context', 'jsonb', (c) => c.notNull())
        // Unique but nullable: runs started without a key never collide (NULLs are distinct).
        .addColumn('idempotency_key', 'text', (c) => c.unique())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addForeignKeyConstraint('runs_definition_fk', ['definition_name', 'definition_version'], `${WORKFLOW_SCHEMA}.definitions`, ['name', 'version'])
        .execute();
      // Resume scans running runs at every start; ListRuns pages newest first.
      await schema.createIndex('runs_running_idx').on('runs').column('id').where(sql.ref('status'), '=', 'running').execute();
      await schema.createIndex('runs_created_idx').on('runs').columns(['created_at desc', 'id']).execute();

      await schema
        .createTable('history')
        .addColumn('run_id', 'uuid', (c) => c.notNull().references(`${WORKFLOW_SCHEMA}.runs.id`).onDelete('cascade'))
        .addColumn('seq', 'integer', (c) => c.notNull().check(sql`seq > 0`))
        .addColumn('from_state', 'text', (c) => c.notNull())
        .addColumn('to_state', 'text', (c) => c.notNull())
        .addColumn('event_type', 'text', (c) => c.notNull())
        .addColumn('event', 'jsonb', (c) => c.notNull())
        .addColumn('at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addPrimaryKeyConstraint('history_pk', ['run_id', 'seq'])
        .execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropSchema(WORKFLOW_SCHEMA).ifExists().cascade().execute();
    },
  },
  '0002_definition_source': {
    // jsonb orders object keys its own way; the source text keeps the author's order (states in
    // the order they were written, which is how viewers lay them out). Null for older rows.
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.withSchema(WORKFLOW_SCHEMA).alterTable('definitions').addColumn('source', 'text').execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.withSchema(WORKFLOW_SCHEMA).alterTable('definitions').dropColumn('source').execute();
    },
  },
  '0003_timeouts_and_finished_published': {
    // timeout_at: when the current attempt's activity times out (meta.timeoutMs after entering
    // the state), so the sweep finds due runs with one indexed range scan. finished_published:
    // whether run.finished went out; resume re-publishes it where it did not. Rows that exist
    // already are taken as published (they finished before the flag existed), new rows are not.
    async up(db: Kysely<any>): Promise<void> {
      const schema = db.schema.withSchema(WORKFLOW_SCHEMA);
      await schema.alterTable('runs').addColumn('timeout_at', 'timestamptz').execute();
      await schema.alterTable('runs').addColumn('finished_published', 'boolean', (c) => c.notNull().defaultTo(true)).execute();
      await schema.alterTable('runs').alterColumn('finished_published', (c) => c.setDefault(false)).execute();
      await schema.createIndex('runs_timeout_idx').on('runs').column('timeout_at').where(sql.ref('status'), '=', 'running').execute();
      await schema
        .createIndex('runs_finished_unpublished_idx')
        .on('runs')
        .column('updated_at')
        .where(sql.ref('finished_published'), '=', false)
        .where(sql.ref('status'), '!=', 'running')
        .execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      const schema = db.schema.withSchema(WORKFLOW_SCHEMA);
      await schema.dropIndex('runs_finished_unpublished_idx').ifExists().execute();
      await schema.dropIndex('runs_timeout_idx').ifExists().execute();
      await schema.alterTable('runs').dropColumn('finished_published').execute();
      await schema.alterTable('runs').dropColumn('timeout_at').execute();
    },
  },
  '0004_finished_published_running': {
    // 0003 marked every existing row as published, running ones included: such a run, once it
    // finished, would never have its run.finished re-published by resume. A running run has
    // published no run.finished yet; finishing it sets the flag to false again anyway.
    async up(db: Kysely<any>): Promise<void> {
      await db.withSchema(WORKFLOW_SCHEMA).updateTable('runs').set({ finished_published: false }).where('status', '=', 'running').execute();
    },
    async down(): Promise<void> {
      // Nothing to undo: false is the truth for a running run.
    },
  },
  '0005_run_trace_and_paging': {
    // trace_parent: the W3C traceparent of the StartRun call, so every effect of the run (from
    // any replica, after any restart) is published in the trace of the task that started it.
    // Null for older runs. ListRuns pages by keyset on (created_at, id) newest first, with or
    // without a definition filter: a plain (created_at, id) index serves the backward scan that
    // 0001's (created_at desc, id) index cannot.
    async up(db: Kysely<any>): Promise<void> {
      const schema = db.schema.withSchema(WORKFLOW_SCHEMA);
      await schema.alterTable('runs').addColumn('trace_parent', 'text').execute();
      await schema.createIndex('runs_created_id_idx').on('runs').columns(['created_at', 'id']).execute();
      await schema.createIndex('runs_definition_created_idx').on('runs').columns(['definition_name', 'definition_version', 'created_at', 'id']).execute();
      await schema.dropIndex('runs_created_idx').ifExists().execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      const schema = db.schema.withSchema(WORKFLOW_SCHEMA);
      await schema.createIndex('runs_created_idx').ifNotExists().on('runs').columns(['created_at desc', 'id']).execute();
      await schema.dropIndex('runs_definition_created_idx').ifExists().execute();
      await schema.dropIndex('runs_created_id_idx').ifExists().execute();
      await schema.alterTable('runs').dropColumn('trace_parent').execute();
    },
  },
  '0006_tenants': {
    // Every run belongs to a tenant (`default` for the runs that existed, as for what an internal
    // caller starts); idempotency keys are per tenant. Definitions belong to a tenant too, `''`
    // being the shared ones (the built-ins and every row that existed): versions count per
    // (tenant, name), and a run names the tenant of the definition it is pinned to, since a
    // tenant's own `coding` and the shared `coding` both have a version 1.
    async up(db: Kysely<any>): Promise<void> {
      const schema = db.schema.withSchema(WORKFLOW_SCHEMA);
      await schema.alterTable('definitions').addColumn('tenant', 'text', (c) => c.notNull().defaultTo('')).execute();
      await schema.alterTable('runs').addColumn('tenant', 'text', (c) => c.notNull().defaultTo('default')).execute();
      await schema.alterTable('runs').addColumn('definition_tenant', 'text', (c) => c.notNull().defaultTo('')).execute();
      await schema.alterTable('runs').dropConstraint('runs_definition_fk').execute();
      await schema.alterTable('definitions').dropConstraint('definitions_pk').execute();
      await schema.alterTable('definitions').addPrimaryKeyConstraint('definitions_pk', ['tenant', 'name', 'version']).execute();
      await schema
        .alterTable('runs')
        .addForeignKeyConstraint('runs_definition_fk', ['definition_tenant', 'definition_name', 'definition_version'], `${WORKFLOW_SCHEMA}.definitions`, ['tenant', 'name', 'version'])
        .execute();
      await schema.alterTable('runs').dropConstraint('runs_idempotency_key_key').execute();
      await schema.alterTable('runs').addUniqueConstraint('runs_tenant_idempotency_key_key', ['tenant', 'idempotency_key']).execute();
      // A tenant's ListRuns pages newest first within the tenant.
      await schema.createIndex('runs_tenant_created_idx').on('runs').columns(['tenant', 'created_at', 'id']).execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      const schema = db.schema.withSchema(WORKFLOW_SCHEMA);
      await schema.dropIndex('runs_tenant_created_idx').ifExists().execute();
      await schema.alterTable('runs').dropConstraint('runs_tenant_idempotency_key_key').execute();
      await schema.alterTable('runs').addUniqueConstraint('runs_idempotency_key_key', ['idempotency_key']).execute();
      await schema.alterTable('runs').dropConstraint('runs_definition_fk').execute();
      await schema.alterTable('definitions').dropConstraint('definitions_pk').execute();
      await schema.alterTable('definitions').addPrimaryKeyConstraint('definitions_pk', ['name', 'version']).execute();
      await schema
        .alterTable('runs')
        .addForeignKeyConstraint('runs_definition_fk', ['definition_name', 'definition_version'], `${WORKFLOW_SCHEMA}.definitions`, ['name', 'version'])
        .execute();
      await schema.alterTable('runs').dropColumn('definition_tenant').execute();
      await schema.alterTable('runs').dropColumn('tenant').execute();
      await schema.alterTable('definitions').dropColumn('tenant').execute();
    },
  },
};

/** Applies every pending workflow migration; returns the names applied. Safe to run concurrently. */
export function migrateWorkflowSchema(db: Kysely<any>, logger: Logger): Promise<string[]> {
  return migrateToLatest(db, { schema: WORKFLOW_SCHEMA, migrations: workflowMigrations, logger });
}
