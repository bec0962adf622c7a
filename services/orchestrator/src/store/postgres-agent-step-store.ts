/**
 * `AgentStepStore` on PostgreSQL through Kysely, table `orchestrator.agent_steps`.
 */
import { sql, type Kysely, type Selectable } from 'kysely';
import { fromStepDetails, toStepDetails, type AgentStepQuery, type AgentStepRecord, type StoredAgentStep } from '../domain/agent-step.js';
import { TaskStatuses } from '../domain/task.js';
import { isUuid } from '../domain/uuid.js';
import type { AgentStepStore, StepRecordOutcome } from './agent-step-store.js';
import { ORCHESTRATOR_SCHEMA, type AgentStepsTable, type OrchestratorDatabase } from './schema.js';

/** PostgreSQL's foreign_key_violation: the step names a task that does not exist. */
const FOREIGN_KEY_VIOLATION = '23503';

function isForeignKeyViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === FOREIGN_KEY_VIOLATION;
}

/** The statuses after which a task never changes again, so its steps may age out. */
const FINAL_STATUSES = [TaskStatuses.succeeded, TaskStatuses.failed, TaskStatuses.cancelled];

function toAgentStep(row: Selectable<AgentStepsTable>): StoredAgentStep {
  return {
    seq: row.seq,
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
    ...fromStepDetails(row.details),
    ...(row.model_call !== null ? { modelCall: row.model_call } : {}),
    ...(row.duration_ms !== null ? { durationMs: row.duration_ms } : {}),
    ...(row.arguments !== null ? { arguments: row.arguments } : {}),
    ...(row.observation !== null ? { observation: row.observation } : {}),
  };
}

/** The `details` column's value: JSON text (see `schema.ts`), or null for a step without details. */
function detailsJson(step: AgentStepRecord): string | null {
  const details = toStepDetails(step);
  return details === null ? null : JSON.stringify(details);
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
      // A sequence hands out numbers when rows are inserted, not when they commit: two steps of
      // a task inserted at once could commit in the opposite order, and a follower listing in
      // between would take a cursor past the one not yet visible and never see it. Holding a
      // per-task lock until commit makes a task's steps commit in seq order (a run is one task's,
      // so its listing is covered too); steps of different tasks still insert in parallel.
      const row = await this.db.transaction().execute(async (trx) => {
        await sql`select pg_advisory_xact_lock(hashtext('orchestrator.agent_steps'), hashtext(${step.taskId}))`.execute(trx);
        return trx
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
            details: detailsJson(step),
            model_call: step.modelCall !== undefined ? JSON.stringify(step.modelCall) : null,
            duration_ms: step.durationMs ?? null,
            arguments: step.arguments ?? null,
            observation: step.observation ?? null,
          })
          .onConflict((oc) => oc.doNothing())
          .returning('task_id')
          .executeTakeFirst();
      });
      return row ? 'recorded' : 'duplicate';
    } catch (err) {
      // The foreign key checks the task in the same statement, so a task deleted meanwhile is
      // handled too.
      if (isForeignKeyViolation(err)) return 'unknown-task';
      throw err;
    }
  }

  async noteSubtaskExecutor(step: Pick<AgentStepRecord, 'taskId' | 'subtaskId' | 'attempt' | 'executorId'>): Promise<void> {
    if (!isUuid(step.taskId) || step.attempt === null || step.executorId === '') return;
    await this.db
      .updateTable('subtasks')
      .set({ executor_id: step.executorId })
      .where('task_id', '=', step.taskId)
      .where('id', '=', step.subtaskId)
      .where('attempt', '=', step.attempt)
      .where('status', '=', 'running')
      .where(sql<boolean>`executor_id is distinct from ${step.executorId}`)
      .execute();
  }

  async taskExists(taskId: string, tenant?: string): Promise<boolean> {
    if (!isUuid(taskId)) return false;
    let q = this.db.selectFrom('tasks').select('id').where('id', '=', taskId);
    if (tenant !== undefined) q = q.where('tenant', '=', tenant);
    const row = await q.executeTakeFirst();
    return row !== undefined;
  }

  async list(query: AgentStepQuery): Promise<StoredAgentStep[]> {
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
    const tenant = query.tenant;
    if (tenant !== undefined) q = q.where('task_id', 'in', (eb) => eb.selectFrom('tasks').select('id').where('tenant', '=', tenant));
    if (query.after !== undefined) q = q.where('seq', '>', query.after.seq);
    const rows = await q.orderBy('seq').limit(query.limit).execute();
    return rows.map(toAgentStep);
  }

  async deleteStepsOfFinishedTasks(finishedBefore: Date, limit: number): Promise<number> {
    // One bounded batch per statement, so a large backlog never holds locks or bloats WAL in one
    // go; the caller repeats until a batch comes back short.
    const result = await sql<never>`
      delete from orchestrator.agent_steps
      where ctid in (
        select s.ctid from orchestrator.agent_steps s
        join orchestrator.tasks t on t.id = s.task_id
        where t.status in (${sql.join(FINAL_STATUSES)}) and t.updated_at < ${finishedBefore}
        limit ${limit}
      )`.execute(this.db);
    return Number(result.numAffectedRows ?? 0n);
  }
}
