/**
 * Kysely table types of the `orchestrator` schema (see `migrations.ts` for the DDL). JSONB
 * columns read as parsed values and are written as JSON text, because node-postgres would
 * otherwise send a JS array as a PostgreSQL array.
 */
import type { ColumnType, Generated, JSONColumnType } from 'kysely';
import type { AgentStepRecord } from '../domain/agent-step.js';
import type { SubtaskStatus, TaskStatus } from '../domain/task.js';

/** The PostgreSQL schema Orion owns; no other service reads it. */
export const ORCHESTRATOR_SCHEMA = 'orchestrator';

/** `orchestrator.tasks`: one row per submitted task. */
export interface TasksTable {
  id: string;
  goal: string;
  repo_path: string;
  test_command: JSONColumnType<string[]>;
  project: string;
  status: TaskStatus;
  run_id: string | null;
  failure_reason: string | null;
  review_summary: string | null;
  review_approved: boolean | null;
  idempotency_key: string | null;
  plan_work_id: string | null;
  review_work_id: string | null;
  code_work_id: string | null;
  code_run_id: string | null;
  code_state: string | null;
  code_activity: string | null;
  code_attempt: number | null;
  created_at: Generated<Date>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

/** `orchestrator.subtasks`: the plan's subtasks, keyed by (task_id, id). */
export interface SubtasksTable {
  task_id: string;
  id: string;
  position: number;
  title: string;
  instructions: string;
  files: JSONColumnType<string[]>;
  status: SubtaskStatus;
  attempt: Generated<number>;
  summary: string | null;
  commit_sha: string | null;
  files_changed: JSONColumnType<string[], string | undefined, string>;
  failure_reason: string | null;
  result: JSONColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
  /** The attempt whose SubtaskWork JetStream last acknowledged; null before the first. */
  dispatched_attempt: ColumnType<number | null, number | null | undefined, number | null>;
  dispatched_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  created_at: Generated<Date>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

/** `orchestrator.agent_steps`: the steps tactical agents took, keyed by a step's identity. */
export interface AgentStepsTable {
  task_id: string;
  run_id: string;
  subtask_id: string;
  executor_id: string;
  step: number;
  kind: AgentStepRecord['kind'];
  tool: string | null;
  summary: string;
  ok: boolean;
  at: Date;
  /** Null when the step event carried none (added by `0004_agent_step_attempt`). */
  attempt: number | null;
  recorded_at: Generated<Date>;
  /** Storage order, from a sequence (added by `0005_agent_step_seq`); ListAgentSteps pages on it. */
  seq: Generated<number>;
}

/** The tables of the `orchestrator` schema, as Kysely sees them (`db.withSchema(…)`). */
export interface OrchestratorDatabase {
  tasks: TasksTable;
  subtasks: SubtasksTable;
  agent_steps: AgentStepsTable;
}
