/**
 * Migrations of the `router` schema, run by `dist/migrate.js` before the service starts
 * (Kubernetes: an init container; locally `make migrate`). Append new migrations; never edit
 * one that has shipped.
 */
import { migrateToLatest, sql, type Kysely, type Migration } from '@maestro/db';
import type { Logger } from '@maestro/runtime';

/** The schema the router owns. */
export const ROUTER_SCHEMA = 'router';

// One row per model call: what a task spent (budgets, totals per phase and model) and how each
// model performed (latency, failures). `cost_usd` is null for unpriced models: unknown, not free.
// Verdicts of subtask attempts come from `maestro.events.work.finished`, to credit the models
// that worked an attempt with its outcome.
const statements0001 = [
  sql`create schema if not exists router`,
  sql`create table router.model_calls (
    id bigserial primary key,
    at timestamptz not null,
    task_id text,
    run_id text,
    subtask_id text,
    attempt integer not null default 0,
    phase text not null,
    role text not null,
    spec text not null,
    scripted boolean not null,
    input_tokens integer not null,
    cached_input_tokens integer not null,
    output_tokens integer not null,
    reasoning_tokens integer not null,
    cost_usd double precision,
    latency_ms double precision not null,
    ok boolean not null,
    error_code text
  )`,
  sql`create index model_calls_task_idx on router.model_calls (task_id) where task_id is not null`,
  sql`create index model_calls_spec_phase_idx on router.model_calls (spec, phase)`,
  sql`create table router.subtask_verdicts (
    task_id text not null,
    subtask_id text not null,
    attempt integer not null,
    ok boolean not null,
    at timestamptz not null,
    primary key (task_id, subtask_id, attempt)
  )`,
];

/** Every migration of the schema, by name. */
export const routerMigrations: Record<string, Migration> = {
  '0001_usage_ledger': {
    async up(db: Kysely<unknown>): Promise<void> {
      for (const statement of statements0001) await statement.execute(db);
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await sql`drop table if exists router.subtask_verdicts`.execute(db);
      await sql`drop table if exists router.model_calls`.execute(db);
    },
  },
};

/** Applies every migration (tests and `migrate.ts`). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any typed Kysely is accepted
export function migrateRouterSchema(db: Kysely<any>, logger: Logger): Promise<string[]> {
  return migrateToLatest(db, { schema: ROUTER_SCHEMA, migrations: routerMigrations, logger });
}
