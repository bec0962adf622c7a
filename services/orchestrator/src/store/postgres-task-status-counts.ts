/**
 * `TaskStatusCounts` on PostgreSQL: one statement per scrape, each status counted over at most
 * `cap` rows of the `(status, created_at)` index, under a statement timeout, so a scrape costs
 * the database a bounded amount of work however many tasks there are.
 */
import type { Kysely } from 'kysely';
import { sql } from '@maestro/db';
import { ORCHESTRATOR_SCHEMA, type OrchestratorDatabase } from './schema.js';
import { UnfinishedTaskStatuses, type TaskStatusCounts, type UnfinishedTaskStatus } from './task-status-counts.js';

/** Options of {@link PostgresTaskStatusCounts}. */
export interface PostgresTaskStatusCountsOptions {
  /** Rows counted per status at most. @default 100000 */
  cap?: number;
  /** The statement's `statement_timeout`. @default 2000 */
  timeoutMs?: number;
}

/** Counts unfinished tasks by status in the orchestrator schema. */
export class PostgresTaskStatusCounts implements TaskStatusCounts {
  private readonly cap: number;
  private readonly timeoutMs: number;

  constructor(
    private readonly db: Kysely<OrchestratorDatabase>,
    options: PostgresTaskStatusCountsOptions = {},
  ) {
    this.cap = options.cap ?? 100_000;
    this.timeoutMs = options.timeoutMs ?? 2_000;
  }

  async countUnfinished(): Promise<Record<UnfinishedTaskStatus, number>> {
    const tasks = sql.table(`${ORCHESTRATOR_SCHEMA}.tasks`);
    const counts = await this.db.transaction().execute(async (trx) => {
      await sql`set local statement_timeout = ${sql.lit(this.timeoutMs)}`.execute(trx);
      const perStatus = UnfinishedTaskStatuses.map(
        (status) => sql`select ${status}::text as status, count(*)::int as n from (select 1 from ${tasks} where status = ${status} limit ${this.cap}) capped`,
      );
      return sql<{ status: UnfinishedTaskStatus; n: number }>`${sql.join(perStatus, sql` union all `)}`.execute(trx);
    });
    const result = Object.fromEntries(UnfinishedTaskStatuses.map((status) => [status, 0])) as Record<UnfinishedTaskStatus, number>;
    for (const row of counts.rows) result[row.status] = row.n;
    return result;
  }
}
