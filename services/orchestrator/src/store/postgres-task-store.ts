/**
 * `TaskStore` on PostgreSQL through Kysely, in the `orchestrator` schema.
 */
import type { Kysely, Selectable, Transaction, Updateable } from 'kysely';
import { sql } from '@maestro/db';
import type { Escalation, FailureKind } from '@maestro/contracts';
import { toEscalationListing, type EscalationListing, type EscalationRecord } from '../domain/escalations.js';
import type { InterruptedReflex } from '../domain/reflex-learning.js';
import { containsPattern } from '../domain/task-list-query.js';
import { isUuid } from '../domain/uuid.js';
import type { SubtaskRecord, TaskRecord, TaskWithSubtasks } from '../domain/task.js';
import { ORCHESTRATOR_SCHEMA, type EscalationsTable, type OrchestratorDatabase, type SubtasksTable, type TasksTable } from './schema.js';
import type {
  EscalationPatch,
  LockedTask,
  NewEscalation,
  NewSubtask,
  NewTask,
  SubtaskDispatched,
  SubtaskPatch,
  TaskPage,
  TaskPatch,
  TaskQuery,
  TaskStore,
} from './task-store.js';

function toTask(row: Selectable<TasksTable>): TaskRecord {
  const code =
    row.code_work_id !== null &&
    row.code_run_id !== null &&
    row.code_state !== null &&
    row.code_activity !== null &&
    row.code_attempt !== null
      ? {
          workId: row.code_work_id,
          runId: row.code_run_id,
          state: row.code_state,
          activity: row.code_activity,
          attempt: row.code_attempt,
        }
      : null;
  return {
    id: row.id,
    goal: row.goal,
    repoPath: row.repo_path,
    testCommand: row.test_command,
    project: row.project,
    status: row.status,
    runId: row.run_id,
    failureReason: row.failure_reason,
    reviewSummary: row.review_summary,
    reviewApproved: row.review_approved,
    answer: row.answer,
    idempotencyKey: row.idempotency_key,
    tenant: row.tenant,
    memoryScopes: row.memory_scopes,
    planWorkId: row.plan_work_id,
    reviewWorkId: row.review_work_id,
    reviewSha: row.review_sha,
    code,
    budget: { usd: row.budget_usd, tokens: Number(row.budget_tokens) },
    intent:
      row.intent === null ? null : { intent: row.intent, confidence: row.intent_confidence ?? 0, reason: row.intent_reason ?? '' },
    workflow: row.workflow,
    deliveryMode: row.delivery_mode,
    delivery: row.delivery,
    baselineFailures: row.baseline_failures,
    baselineExitCode: row.baseline_exit_code,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toSubtask(row: Selectable<SubtasksTable>): SubtaskRecord {
  return {
    taskId: row.task_id,
    id: row.id,
    position: row.position,
    title: row.title,
    instructions: row.instructions,
    files: row.files,
    status: row.status,
    attempt: row.attempt,
    summary: row.summary,
    commitSha: row.commit_sha,
    filesChanged: row.files_changed,
    failureReason: row.failure_reason,
    result: row.result,
    dispatchedAttempt: row.dispatched_attempt,
    dispatchedAt: row.dispatched_at,
    hint: row.hint,
    role: row.role,
    dependsOn: row.depends_on,
    resources: row.resources,
    concerns: row.concerns,
    replaces: row.replaces,
    executorId: row.executor_id,
    worktree: row.worktree,
    verdict: row.verdict,
  };
}

/** The columns a new subtask is stored with (what the plan said and the concerns declared). */
function newSubtaskColumns(s: NewSubtask) {
  return {
    id: s.id,
    title: s.title,
    instructions: s.instructions,
    files: JSON.stringify(s.files),
    depends_on: JSON.stringify(s.dependsOn ?? []),
    resources: JSON.stringify(s.resources ?? []),
    concerns: JSON.stringify(s.concerns ?? []),
    replaces: s.replaces ?? null,
  };
}

function toEscalation(row: Selectable<EscalationsTable>): EscalationRecord {
  return {
    escalationId: row.escalation_id,
    taskId: row.task_id,
    runId: row.run_id,
    subtaskId: row.subtask_id,
    attempt: row.attempt,
    reason: row.reason as FailureKind,
    // Stored from a parsed message, so it has the message's shape.
    escalation: row.packet as unknown as Escalation,
    status: row.status,
    decision: row.decision,
    claimedUntil: row.claimed_until,
    createdAt: row.created_at,
    decidedAt: row.decided_at,
  };
}

function escalationUpdate(patch: EscalationPatch): Updateable<EscalationsTable> {
  const out: Updateable<EscalationsTable> = { updated_at: new Date() };
  if (patch.status !== undefined) out.status = patch.status;
  if (patch.decision !== undefined) out.decision = patch.decision === null ? null : JSON.stringify(patch.decision);
  if (patch.claimedUntil !== undefined) out.claimed_until = patch.claimedUntil;
  if (patch.decidedAt !== undefined) out.decided_at = patch.decidedAt;
  return out;
}

function taskUpdate(patch: TaskPatch): Updateable<TasksTable> {
  const out: Updateable<TasksTable> = { updated_at: new Date() };
  if (patch.status !== undefined) out.status = patch.status;
  if (patch.runId !== undefined) out.run_id = patch.runId;
  if (patch.failureReason !== undefined) out.failure_reason = patch.failureReason;
  if (patch.reviewSummary !== undefined) out.review_summary = patch.reviewSummary;
  if (patch.reviewApproved !== undefined) out.review_approved = patch.reviewApproved;
  if (patch.answer !== undefined) out.answer = patch.answer;
  if (patch.planWorkId !== undefined) out.plan_work_id = patch.planWorkId;
  if (patch.reviewWorkId !== undefined) out.review_work_id = patch.reviewWorkId;
  if (patch.reviewSha !== undefined) out.review_sha = patch.reviewSha;
  if (patch.code !== undefined) {
    out.code_work_id = patch.code?.workId ?? null;
    out.code_run_id = patch.code?.runId ?? null;
    out.code_state = patch.code?.state ?? null;
    out.code_activity = patch.code?.activity ?? null;
    out.code_attempt = patch.code?.attempt ?? null;
  }
  if (patch.deliveryMode !== undefined) out.delivery_mode = patch.deliveryMode;
  if (patch.delivery !== undefined) out.delivery = patch.delivery === null ? null : JSON.stringify(patch.delivery);
  if (patch.baselineFailures !== undefined) out.baseline_failures = patch.baselineFailures === null ? null : JSON.stringify(patch.baselineFailures);
  if (patch.baselineExitCode !== undefined) out.baseline_exit_code = patch.baselineExitCode;
  return out;
}

function subtaskUpdate(patch: SubtaskPatch): Updateable<SubtasksTable> {
  const out: Updateable<SubtasksTable> = { updated_at: new Date() };
  if (patch.status !== undefined) out.status = patch.status;
  if (patch.attempt !== undefined) out.attempt = patch.attempt;
  if (patch.summary !== undefined) out.summary = patch.summary;
  if (patch.commitSha !== undefined) out.commit_sha = patch.commitSha;
  if (patch.filesChanged !== undefined) out.files_changed = JSON.stringify(patch.filesChanged);
  if (patch.failureReason !== undefined) out.failure_reason = patch.failureReason;
  if (patch.result !== undefined) out.result = patch.result === null ? null : JSON.stringify(patch.result);
  if (patch.hint !== undefined) out.hint = patch.hint;
  if (patch.role !== undefined) out.role = patch.role;
  if (patch.executorId !== undefined) out.executor_id = patch.executorId;
  if (patch.worktree !== undefined) out.worktree = patch.worktree;
  if (patch.verdict !== undefined) out.verdict = patch.verdict;
  return out;
}

type Db = Kysely<OrchestratorDatabase>;

async function loadSubtasks(db: Db, taskIds: readonly string[]): Promise<Map<string, SubtaskRecord[]>> {
  const byTask = new Map<string, SubtaskRecord[]>();
  if (taskIds.length === 0) return byTask;
  const rows = await db
    .selectFrom('subtasks')
    .selectAll()
    .where('task_id', 'in', [...taskIds])
    .orderBy('task_id')
    .orderBy('position')
    .execute();
  for (const row of rows) {
    const list = byTask.get(row.task_id) ?? [];
    list.push(toSubtask(row));
    byTask.set(row.task_id, list);
  }
  return byTask;
}

async function loadEscalations(db: Db, taskIds: readonly string[]): Promise<Map<string, EscalationListing[]>> {
  const byTask = new Map<string, EscalationListing[]>();
  if (taskIds.length === 0) return byTask;
  const rows = await db
    .selectFrom('escalations')
    .selectAll()
    .where('task_id', 'in', [...taskIds])
    .orderBy('task_id')
    .orderBy('created_at')
    .orderBy('escalation_id')
    .execute();
  for (const row of rows) {
    const list = byTask.get(row.task_id) ?? [];
    list.push(toEscalationListing(toEscalation(row)));
    byTask.set(row.task_id, list);
  }
  return byTask;
}

class PostgresLockedTask implements LockedTask {
  constructor(
    private readonly trx: Transaction<OrchestratorDatabase>,
    public task: TaskRecord,
  ) {}

  async subtasks(): Promise<SubtaskRecord[]> {
    return (await loadSubtasks(this.trx, [this.task.id])).get(this.task.id) ?? [];
  }

  async update(patch: TaskPatch): Promise<TaskRecord> {
    const row = await this.trx
      .updateTable('tasks')
      .set(taskUpdate(patch))
      .where('id', '=', this.task.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    this.task = toTask(row);
    return this.task;
  }

  async replaceSubtasks(planned: readonly NewSubtask[]): Promise<SubtaskRecord[]> {
    await this.trx.deleteFrom('subtasks').where('task_id', '=', this.task.id).execute();
    if (planned.length === 0) return [];
    const rows = await this.trx
      .insertInto('subtasks')
      .values(
        planned.map((s, position) => ({
          task_id: this.task.id,
          ...newSubtaskColumns(s),
          position,
          status: 'pending' as const,
        })),
      )
      .returningAll()
      .execute();
    return rows.map(toSubtask).sort((a, b) => a.position - b.position);
  }

  async updateSubtask(subtaskId: string, patch: SubtaskPatch): Promise<void> {
    await this.trx
      .updateTable('subtasks')
      .set(subtaskUpdate(patch))
      .where('task_id', '=', this.task.id)
      .where('id', '=', subtaskId)
      .execute();
  }

  async appendSubtasks(planned: readonly NewSubtask[], start: { status: SubtaskRecord['status']; attempt: number }): Promise<SubtaskRecord[]> {
    if (planned.length > 0) {
      const last = await this.trx
        .selectFrom('subtasks')
        .select((eb) => eb.fn.max('position').as('position'))
        .where('task_id', '=', this.task.id)
        .executeTakeFirst();
      const first = (last?.position ?? -1) + 1;
      await this.trx
        .insertInto('subtasks')
        .values(
          planned.map((s, i) => ({
            task_id: this.task.id,
            ...newSubtaskColumns(s),
            position: first + i,
            status: start.status,
            attempt: start.attempt,
          })),
        )
        .execute();
    }
    return this.subtasks();
  }

  async escalations(): Promise<EscalationRecord[]> {
    const rows = await this.trx
      .selectFrom('escalations')
      .selectAll()
      .where('task_id', '=', this.task.id)
      .orderBy('created_at')
      .orderBy('escalation_id')
      .execute();
    return rows.map(toEscalation);
  }

  async insertEscalation(e: NewEscalation): Promise<EscalationRecord> {
    const row = await this.trx
      .insertInto('escalations')
      .values({
        escalation_id: e.escalation.escalationId,
        task_id: this.task.id,
        run_id: e.escalation.runId,
        subtask_id: e.escalation.subtaskId,
        attempt: e.escalation.attempt,
        reason: e.escalation.packet.reason,
        packet: JSON.stringify(e.escalation),
        status: e.status,
        decision: e.decision === null ? null : JSON.stringify(e.decision),
        claimed_until: e.claimedUntil,
        decided_at: e.decidedAt,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toEscalation(row);
  }

  async updateEscalation(escalationId: string, patch: EscalationPatch): Promise<EscalationRecord> {
    const row = await this.trx
      .updateTable('escalations')
      .set(escalationUpdate(patch))
      .where('task_id', '=', this.task.id)
      .where('escalation_id', '=', escalationId)
      .returningAll()
      .executeTakeFirstOrThrow();
    return toEscalation(row);
  }

  async markDispatched(dispatched: readonly SubtaskDispatched[], at: Date): Promise<void> {
    for (const d of dispatched) {
      await this.trx
        .updateTable('subtasks')
        .set({ dispatched_attempt: d.attempt, dispatched_at: at })
        .where('task_id', '=', this.task.id)
        .where('id', '=', d.subtaskId)
        .where('attempt', '=', d.attempt)
        .execute();
    }
  }
}

/** Stores tasks in PostgreSQL; the schema must have been migrated (`orchestratorMigrations`). */
export class PostgresTaskStore implements TaskStore {
  private readonly db: Db;

  /** `db` is any Kysely over the service's database; tables are addressed in `orchestrator`. */
  constructor(db: Kysely<OrchestratorDatabase>) {
    this.db = db.withSchema(ORCHESTRATOR_SCHEMA);
  }

  async insertTask(task: NewTask): Promise<{ task: TaskRecord; created: boolean }> {
    const row = await this.db
      .insertInto('tasks')
      .values({
        id: task.id,
        goal: task.goal,
        repo_path: task.repoPath,
        test_command: JSON.stringify(task.testCommand),
        project: task.project,
        status: 'pending',
        idempotency_key: task.idempotencyKey,
        tenant: task.tenant,
        memory_scopes: JSON.stringify(task.memoryScopes ?? []),
        budget_usd: task.budget.usd,
        budget_tokens: task.budget.tokens,
        intent: task.intent?.intent ?? null,
        intent_confidence: task.intent?.confidence ?? null,
        intent_reason: task.intent?.reason ?? null,
        workflow: task.workflow,
      })
      .onConflict((oc) => oc.columns(['tenant', 'idempotency_key']).doNothing())
      .returningAll()
      .executeTakeFirst();
    if (row) return { task: toTask(row), created: true };
    // Only the idempotency key can conflict (ids are fresh UUIDs), so the key is set here.
    const existing = await this.findByIdempotencyKey(task.idempotencyKey ?? '', task.tenant);
    if (!existing) throw new Error(`task insert conflicted but no task has idempotency key ${task.idempotencyKey}`);
    return { task: existing.task, created: false };
  }

  async getTask(taskId: string): Promise<TaskWithSubtasks | undefined> {
    if (!isUuid(taskId)) return undefined;
    const row = await this.db.selectFrom('tasks').selectAll().where('id', '=', taskId).executeTakeFirst();
    return row ? this.withSubtasks(row) : undefined;
  }

  async findByIdempotencyKey(key: string, tenant: string): Promise<TaskWithSubtasks | undefined> {
    const row = await this.db.selectFrom('tasks').selectAll().where('tenant', '=', tenant).where('idempotency_key', '=', key).executeTakeFirst();
    return row ? this.withSubtasks(row) : undefined;
  }

  async findTaskIdByRunId(runId: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('tasks').select('id').where('run_id', '=', runId).executeTakeFirst();
    return row?.id;
  }

  async listTasks(query: TaskQuery): Promise<TaskPage> {
    // The cursor keeps created_at as PostgreSQL has it (microseconds), not as a JS Date (milliseconds).
    let q = this.db
      .selectFrom('tasks')
      .selectAll()
      .select(sql<string>`to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('cursor_at'));
    if (query.tenant !== undefined) q = q.where('tenant', '=', query.tenant);
    if (query.status !== undefined) q = q.where('status', '=', query.status);
    if (query.goalContains !== undefined) q = q.where(sql<boolean>`goal ilike ${containsPattern(query.goalContains)} escape '\\'`);
    const before = query.before;
    if (before !== undefined) q = q.where(sql<boolean>`(created_at, id) < (${before.createdAt}::timestamptz, ${before.id}::uuid)`);
    // One more than asked for says whether another page exists, without a count.
    const fetched = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(query.limit + 1).execute();
    const rows = fetched.slice(0, query.limit);
    const ids = rows.map((r) => r.id);
    const [subtasks, escalations] = await Promise.all([loadSubtasks(this.db, ids), loadEscalations(this.db, ids)]);
    const last = rows.at(-1);
    return {
      tasks: rows.map((row) => ({ task: toTask(row), subtasks: subtasks.get(row.id) ?? [], escalations: escalations.get(row.id) ?? [] })),
      next: fetched.length > query.limit && last !== undefined ? { createdAt: last.cursor_at, id: last.id } : null,
    };
  }

  async listUnstartedTasks(limit: number): Promise<TaskRecord[]> {
    const rows = await this.db
      .selectFrom('tasks')
      .selectAll()
      .where('status', '=', 'pending')
      .where('run_id', 'is', null)
      .orderBy('created_at', 'asc')
      .limit(limit)
      .execute();
    return rows.map(toTask);
  }

  async listInterruptedReflexes(now: Date, limit: number): Promise<InterruptedReflex[]> {
    // The mark lives in the decision (`decision.reflex`, see domain/reflex-learning.ts).
    const rows = await this.db
      .selectFrom('escalations')
      .select(['task_id', 'escalation_id', sql<string>`decision->'reflex'->>'subtaskId'`.as('reflex_subtask_id')])
      .where(sql<boolean>`decision->'reflex'->>'state' = 'learning'`)
      .where(sql<boolean>`coalesce((decision->'reflex'->>'claimedUntil')::timestamptz <= ${now}, true)`)
      .orderBy('updated_at', 'asc')
      .orderBy('escalation_id', 'asc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ taskId: r.task_id, escalationId: r.escalation_id, subtaskId: r.reflex_subtask_id }));
  }

  async withLockedTask<T>(taskId: string, fn: (locked: LockedTask) => Promise<T>): Promise<T | undefined> {
    if (!isUuid(taskId)) return undefined;
    return this.db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('tasks').selectAll().where('id', '=', taskId).forUpdate().executeTakeFirst();
      if (!row) return undefined;
      return fn(new PostgresLockedTask(trx, toTask(row)));
    });
  }

  private async withSubtasks(row: Selectable<TasksTable>): Promise<TaskWithSubtasks> {
    const [subtasks, escalations] = await Promise.all([loadSubtasks(this.db, [row.id]), loadEscalations(this.db, [row.id])]);
    return { task: toTask(row), subtasks: subtasks.get(row.id) ?? [], escalations: escalations.get(row.id) ?? [] };
  }
}
