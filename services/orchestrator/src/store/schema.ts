/**
 * Kysely table types of the `orchestrator` schema (see `migrations.ts` for the DDL). JSONB
 * columns read as parsed values and are written as JSON text, because node-postgres would
 * otherwise send a JS array as a PostgreSQL array.
 */
import type { WorkStepModelCall } from '@maestro/contracts';
import type { ColumnType, Generated, JSONColumnType } from 'kysely';
import type { AgentStepDetails, AgentStepRecord } from '../domain/agent-step.js';
import type { DeliveryMode, TaskDelivery } from '../domain/delivery.js';
import type { EscalationOutcome, EscalationStatus } from '../domain/escalations.js';
import type { SubtaskRole, SubtaskStatus, TaskStatus } from '../domain/task.js';

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
  /** The answer of an `explain` task (added by `0016_task_answer`). */
  answer: ColumnType<string | null, string | null | undefined, string | null>;
  idempotency_key: string | null;
  /** The tenant the task belongs to (added by `0015_task_tenant`). */
  tenant: ColumnType<string, string | undefined, string>;
  /** Memory scopes besides `project` whose preferences apply (added by `0017_task_memory_scopes`). */
  memory_scopes: JSONColumnType<string[], string | undefined, string>;
  plan_work_id: string | null;
  review_work_id: string | null;
  /** The task branch's commit the review saw ('' none); null when not recorded (added by `0009_review_sha`). */
  review_sha: ColumnType<string | null, string | null | undefined, string | null>;
  code_work_id: string | null;
  code_run_id: string | null;
  code_state: string | null;
  code_activity: string | null;
  code_attempt: number | null;
  budget_usd: ColumnType<number, number | undefined, number>;
  /** bigint: node-postgres reads it as a string. */
  budget_tokens: ColumnType<string, number | undefined, number>;
  intent: string | null;
  intent_confidence: number | null;
  intent_reason: string | null;
  workflow: ColumnType<string, string | undefined, string>;
  /** The delivery mode the run's workflow asked for (added by `0008_subtask_concerns_delivery`). */
  delivery_mode: ColumnType<DeliveryMode | null, DeliveryMode | null | undefined, DeliveryMode | null>;
  /** What delivery did, once the review decided (added by `0008_subtask_concerns_delivery`). */
  delivery: JSONColumnType<TaskDelivery | null, string | null | undefined, string | null>;
  /** Tests failing before any agent worked, by preflight's baseline; null before it ran (added by `0008_subtask_concerns_delivery`). */
  baseline_failures: JSONColumnType<string[] | null, string | null | undefined, string | null>;
  /** How that baseline run exited when it failed (1–255); null when it passed or did not run (added by `0011_baseline_exit_code`). */
  baseline_exit_code: ColumnType<number | null, number | null | undefined, number | null>;
  /** The task's trace context (`traceparent`, `tracestate`); null until its first traced work (added by `0013_task_trace_context`). */
  trace_context: JSONColumnType<Record<string, string> | null, string | null | undefined, string | null>;
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
  /** Orion's hint for the next dispatch, after an escalation (added by `0006_escalations`). */
  hint: ColumnType<string | null, string | null | undefined, string | null>;
  /** Who works the next dispatch; null means tactical (added by `0006_escalations`). */
  role: ColumnType<SubtaskRole | null, SubtaskRole | null | undefined, SubtaskRole | null>;
  /** Ids it waits for (added by `0008_subtask_concerns_delivery`, like the next three). */
  depends_on: JSONColumnType<string[], string | undefined, string>;
  /** Declared resources besides files, repository-relative. */
  resources: JSONColumnType<string[], string | undefined, string>;
  /** Lock-manager concerns derived from files and resources. */
  concerns: JSONColumnType<string[], string | undefined, string>;
  /** The subtask a re-plan put it in place of. */
  replaces: ColumnType<string | null, string | null | undefined, string | null>;
  /** The executor that last ran it (added by `0012_subtask_evidence`, like the next two). */
  executor_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** The worktree its last attempt ran in. */
  worktree: ColumnType<string | null, string | null | undefined, string | null>;
  /** The test gate's verdict on its last attempt. */
  verdict: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: Generated<Date>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

/** `orchestrator.escalations`: one row per escalation of a failed subtask (`0006_escalations`). */
export interface EscalationsTable {
  /** The failed work item's id (the escalation's message id). */
  escalation_id: string;
  task_id: string;
  run_id: string;
  subtask_id: string;
  attempt: number;
  /** The failure kind (`tests_failed`, `stuck`, …). */
  reason: string;
  /** The whole `Escalation` message as received (packet and failed result). */
  packet: JSONColumnType<Record<string, unknown>, string, string>;
  status: EscalationStatus;
  decision: JSONColumnType<EscalationOutcome | null, string | null | undefined, string | null>;
  /** While set and in the future, a handler is asking the strategic model about this escalation. */
  claimed_until: ColumnType<Date | null, Date | null | undefined, Date | null>;
  created_at: Generated<Date>;
  decided_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
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
  /** Recalled memories and condensation numbers; null when the step had none (added by `0010_agent_step_details`). */
  details: JSONColumnType<AgentStepDetails | null, string | null | undefined, string | null>;
  /** A model step's call (who answered, tokens, cost); null for other steps and those recorded before `0014_agent_step_call`. */
  model_call: JSONColumnType<WorkStepModelCall | null, string | null | undefined, string | null>;
  /** How long the step took in ms; null when not measured (added by `0014_agent_step_call`). */
  duration_ms: ColumnType<number | null, number | null | undefined, number | null>;
  /** A tool step's arguments (JSON text, bounded); null otherwise (added by `0014_agent_step_call`). */
  arguments: ColumnType<string | null, string | null | undefined, string | null>;
  /** A tool step's observation (bounded); null otherwise (added by `0014_agent_step_call`). */
  observation: ColumnType<string | null, string | null | undefined, string | null>;
}

/** The tables of the `orchestrator` schema, as Kysely sees them (`db.withSchema(…)`). */
export interface OrchestratorDatabase {
  tasks: TasksTable;
  subtasks: SubtasksTable;
  agent_steps: AgentStepsTable;
  escalations: EscalationsTable;
}
