/**
 * `AgentStepStore` on PostgreSQL through Kysely, table `orchestrator.agent_steps`.
 */
import type { Kysely, Selectable } from 'kysely';
import type { AgentStepQuery, AgentStepRecord } from '../domain/agent-step.js';
import type { AgentStepStore, StepRecordOutcome } from './agent-step-store.js';
import { isUuid } from './postgres-task-store.js';
import { ORCHESTRATOR_SCHEMA, type AgentStepsTable, type OrchestratorDatabase } from './schema.js';

/** PostgreSQL's foreign_key_violation: the step names a task that does not exist. */
const FOREIGN_KEY_VIOLATION = '23503';

function isForeignKeyViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === FOREIGN_KEY_VIOLATION;
}

function toAgentStep(row: Selectable<AgentStepsTable>): AgentStepRecord {
  return {
    taskId: row.task_id,
    runId: row.run_id,
    subtaskId: row.subtask_id,
    executorId: row.executor_id,
    step: row.step,
    kind: row.kind,
    tool: row.tool,
    summary: row.summary,
    ok: row.ok,
    at: row.at,
    attempt: row.attempt,
  };
}

/** Stores agent steps in PostgreSQL; the schema must have been migrated (`orchestratorMigrations`). */
export class PostgresAgentStepStore implements AgentStepStore {
  private readonly db: Kysely<OrchestratorDatabase>;

  /** `db` is any Kysely over the service's database; tables are addressed in `orchestrator`. */
  constructor(db: Kysely<OrchestratorDatabase>) {
    this.db = db.withSchema(ORCHESTRATOR_SCHEMA);
  }

  async record(step: AgentStepRecord): Promise<StepRecordOutcome> {
    if (!isUuid(step.taskId)) return 'unknown-task';
    try {
      const row = await this.db
        .insertInto('agent_steps')
        .values({
          task_id: step.taskId,
          run_id: step.runId,
          subtask_id: step.subtaskId,
          executor_id: step.executorId,
          step: step.step,
          kind: step.kind,
          tool: step.tool,
          summary: step.summary,
          ok: step.ok,
          at: step.at,
          attempt: step.attempt,
        })
        .onConflict((oc) => oc.doNothing())
        .returning('task_id')
        .executeTakeFirst();
      return row ? 'recorded' : 'duplicate';
    } catch (err) {
      // The foreign key checks the task in the same statement, so a task deleted meanwhile is
      // handled too; one query per step for the common case.
      if (isForeignKeyViolation(err)) return 'unknown-task';
      throw err;
    }
  }

  async taskExists(taskId: string): Promise<boolean> {
    if (!isUuid(taskId)) return false;
    const row = await this.db.selectFrom('tasks').select('id').where('id', '=', taskId).executeTakeFirst();
    return row !== undefined;
  }

  async list(query: AgentStepQuery): Promise<AgentStepRecord[]> {
    let q = this.db.selectFrom('agent_steps').selectAll();
    if (query.taskId !== undefined) {
      if (!isUuid(query.taskId)) return [];
      q = q.where('task_id', '=', query.taskId);
    } else if (query.runId !== undefined) {
      q = q.where('run_id', '=', query.runId);
    } else {
      throw new Error('AgentStepStore.list needs a task id or a run id');
    }
    if (query.subtaskId !== undefined) q = q.where('subtask_id', '=', query.subtaskId);
    const after = query.after;
    if (after !== undefined) {
      // A row comparison: exactly "after this position" in the listing order below.
      q = q.where((eb) =>
        eb(eb.refTuple('at', 'subtask_id', 'executor_id', 'step'), '>', eb.tuple(after.at, after.subtaskId, after.executorId, after.step)),
      );
    }
    const rows = await q
      .orderBy('at')
      .orderBy('subtask_id')
      .orderBy('executor_id')
      .orderBy('step')
      .limit(query.limit)
      .execute();
    return rows.map(toAgentStep);
  }
}
