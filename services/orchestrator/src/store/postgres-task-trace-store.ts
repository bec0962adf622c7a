/**
 * A {@link TaskTraceStore} in the `trace_context` column of `orchestrator.tasks` (migration
 * `0013_task_trace_context`): written once, by the first traced work of the task.
 */
import { sql, type Kysely } from 'kysely';
import type { TraceCarrier } from '@maestro/runtime';
import { isUuid } from '../domain/uuid.js';
import { ORCHESTRATOR_SCHEMA, type OrchestratorDatabase } from './schema.js';
import type { TaskTraceStore } from './task-trace-store.js';

/** Trace contexts kept with the tasks in PostgreSQL. */
export class PostgresTaskTraceStore implements TaskTraceStore {
  private readonly db: Kysely<OrchestratorDatabase>;

  constructor(db: Kysely<OrchestratorDatabase>) {
    this.db = db.withSchema(ORCHESTRATOR_SCHEMA);
  }

  async remember(taskId: string, carrier: TraceCarrier): Promise<TraceCarrier | null> {
    // Task ids are uuids: anything else names no task (and would make PostgreSQL refuse the cast).
    if (!isUuid(taskId)) return null;
    const row = await this.db
      .updateTable('tasks')
      .set({ trace_context: sql<string>`coalesce(trace_context, ${JSON.stringify(carrier)}::jsonb)` })
      .where('id', '=', taskId)
      .returning('trace_context')
      .executeTakeFirst();
    return row?.trace_context ?? null;
  }

  async recall(taskId: string): Promise<TraceCarrier | null> {
    if (!isUuid(taskId)) return null;
    const row = await this.db.selectFrom('tasks').select('trace_context').where('id', '=', taskId).executeTakeFirst();
    return row?.trace_context ?? null;
  }
}
