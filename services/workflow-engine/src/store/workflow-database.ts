/**
 * Kysely table types of the `workflow` schema (see `migrations.ts`). JSON columns take JSON
 * text on insert and update: node-postgres would turn a JS array into a PostgreSQL array, so
 * the store always serializes explicitly.
 */
import type { ColumnType, JSONColumnType } from 'kysely';

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type UpdatedAt = ColumnType<Date, Date | string | undefined, Date | string>;

/** `workflow.definitions`: one row per version of a definition. */
export interface DefinitionsTable {
  /** The owning tenant; '' for the shared definitions every tenant can run (migration 0006). */
  tenant: ColumnType<string, string | undefined, string>;
  name: string;
  version: number;
  definition: JSONColumnType<Record<string, unknown>>;
  /** The definition's JSON text in the author's key order (jsonb reorders keys); null on old rows. */
  source: string | null;
  /** sha256 of the canonical JSON; a save with the latest version's hash makes no new version. */
  hash: string;
  created_at: CreatedAt;
}

/** `workflow.runs`: one row per run, holding its XState snapshot and where it is. */
export interface RunsTable {
  id: string;
  /** The owning tenant (migration 0006); `default` for runs an internal caller started. */
  tenant: ColumnType<string, string | undefined, string>;
  /** The tenant of the definition the run is pinned to ('' for a shared one). */
  definition_tenant: ColumnType<string, string | undefined, string>;
  definition_name: string;
  definition_version: number;
  status: string;
  state: string;
  attempt: number;
  /** How many times each state has been entered (the source of attempt numbers). */
  visits: JSONColumnType<Record<string, number>>;
  /** XState's persisted snapshot. */
  snapshot: JSONColumnType<object>;
  context: JSONColumnType<Record<string, unknown>>;
  idempotency_key: string | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
  /** When the current attempt's activity times out; null when the state has no timeout or the run finished. */
  timeout_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** True once run.finished was published; false on running runs and on finished runs whose event may be lost. */
  finished_published: ColumnType<boolean, boolean | undefined, boolean>;
  /** The W3C traceparent of the StartRun call (migration 0005); null when it had none. */
  trace_parent: ColumnType<string | null, string | null | undefined, string | null>;
}

/** `workflow.history`: one row per transition of a run, numbered from 1 by `seq`. */
export interface HistoryTable {
  run_id: string;
  seq: number;
  from_state: string;
  to_state: string;
  event_type: string;
  event: JSONColumnType<Record<string, unknown>>;
  at: CreatedAt;
}

/** The database as the workflow-engine sees it: its own schema only. */
export interface WorkflowDatabase {
  'workflow.definitions': DefinitionsTable;
  'workflow.runs': RunsTable;
  'workflow.history': HistoryTable;
}
