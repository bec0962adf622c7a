/**
 * The {@link UsageLedger} in PostgreSQL (schema `router`): a row per model call and per
 * subtask verdict. Sums and percentiles are computed by the database.
 */
import { sql, type Generated, type Kysely } from '@maestro/db';
import { OperationalError } from '@maestro/runtime';
import { ROUTER_SCHEMA } from './migrations.js';
import {
  emptyTotals,
  type ModelCallRecord,
  type ModelPhaseStats,
  type SubtaskVerdict,
  type TaskSpend,
  type TaskUsageTotals,
  type UsageLedger,
  type UsageTotals,
} from './usage-ledger.js';

/** The `router.model_calls` table. */
export interface ModelCallsTable {
  id: Generated<string>;
  at: Date;
  task_id: string | null;
  run_id: string | null;
  subtask_id: string | null;
  attempt: number;
  phase: string;
  role: string;
  spec: string;
  scripted: boolean;
  input_tokens: number;
  cached_input_tokens: number;
  output_tokens: number;
  reasoning_tokens: number;
  cost_usd: number | null;
  latency_ms: number;
  ok: boolean;
  error_code: string | null;
}

/** The `router.subtask_verdicts` table. */
export interface SubtaskVerdictsTable {
  task_id: string;
  subtask_id: string;
  attempt: number;
  ok: boolean;
  at: Date;
}

/** The router's tables, for `Kysely<RouterDatabase>`. */
export interface RouterDatabase {
  model_calls: ModelCallsTable;
  subtask_verdicts: SubtaskVerdictsTable;
}

/** The aggregate columns every totals query selects, as {@link TotalsRow} names them. */
type TotalsRow = {
  calls: number;
  input_tokens: number;
  cached_input_tokens: number;
  output_tokens: number;
  reasoning_tokens: number;
  cost_usd: number;
  unpriced_calls: number;
  scripted_calls: number;
};

const totalsColumns = sql`count(*)::int as calls,
  coalesce(sum(input_tokens), 0)::float8 as input_tokens,
  coalesce(sum(cached_input_tokens), 0)::float8 as cached_input_tokens,
  coalesce(sum(output_tokens), 0)::float8 as output_tokens,
  coalesce(sum(reasoning_tokens), 0)::float8 as reasoning_tokens,
  coalesce(sum(cost_usd), 0)::float8 as cost_usd,
  (count(*) filter (where cost_usd is null))::int as unpriced_calls,
  (count(*) filter (where scripted))::int as scripted_calls`;

function toTotals(row: TotalsRow | undefined): UsageTotals {
  if (row === undefined) return emptyTotals();
  return {
    calls: Number(row.calls),
    inputTokens: Number(row.input_tokens),
    cachedInputTokens: Number(row.cached_input_tokens),
    outputTokens: Number(row.output_tokens),
    reasoningTokens: Number(row.reasoning_tokens),
    costUsd: Number(row.cost_usd),
    unpricedCalls: Number(row.unpriced_calls),
    scriptedCalls: Number(row.scripted_calls),
  };
}

/** See the module comment. */
export class PostgresUsageLedger implements UsageLedger {
  private readonly db: Kysely<RouterDatabase>;

  /** `db` is owned by the caller. */
  constructor(db: Kysely<RouterDatabase>) {
    this.db = db.withSchema(ROUTER_SCHEMA);
  }

  record(call: ModelCallRecord): Promise<void> {
    return this.guard('record a model call', async () => {
      await this.db
        .insertInto('model_calls')
        .values({
          at: call.at,
          task_id: call.taskId ?? null,
          run_id: call.runId ?? null,
          subtask_id: call.subtaskId ?? null,
          attempt: call.attempt,
          phase: call.phase,
          role: call.role,
          spec: call.spec,
          scripted: call.scripted,
          input_tokens: call.inputTokens,
          cached_input_tokens: call.cachedInputTokens,
          output_tokens: call.outputTokens,
          reasoning_tokens: call.reasoningTokens,
          cost_usd: call.costUsd,
          latency_ms: call.latencyMs,
          ok: call.ok,
          error_code: call.errorCode ?? null,
        })
        .execute();
    });
  }

  taskSpend(taskId: string): Promise<TaskSpend> {
    return this.guard('read a task spend', async () => {
      const row = await this.db
        .selectFrom('model_calls')
        .select(sql<number>`coalesce(sum(input_tokens + output_tokens), 0)::float8`.as('tokens'))
        .select(sql<number>`coalesce(sum(cost_usd), 0)::float8`.as('usd'))
        .where('task_id', '=', taskId)
        .executeTakeFirst();
      return { tokens: Number(row?.tokens ?? 0), usd: Number(row?.usd ?? 0) };
    });
  }

  taskUsage(taskId: string): Promise<TaskUsageTotals> {
    return this.guard('read a task usage', async () => {
      // One statement, one snapshot: the total (grouping set ()), per phase and per model.
      const { rows } = await sql<TotalsRow & { phase: string | null; spec: string | null; by: 'total' | 'phase' | 'spec' }>`
        select phase, spec,
          case when grouping(phase) = 0 then 'phase' when grouping(spec) = 0 then 'spec' else 'total' end as by,
          ${totalsColumns}
        from router.model_calls where task_id = ${taskId}
        group by grouping sets ((), (phase), (spec))
        order by by, phase collate "C", spec collate "C"`.execute(this.db);
      return {
        taskId,
        total: toTotals(rows.find((r) => r.by === 'total')),
        byPhase: rows.filter((r) => r.by === 'phase').map((r) => ({ phase: r.phase ?? '', totals: toTotals(r) })),
        byModel: rows.filter((r) => r.by === 'spec').map((r) => ({ spec: r.spec ?? '', totals: toTotals(r) })),
      };
    });
  }

  taskTotals(taskIds: readonly string[]): Promise<Array<{ taskId: string; total: UsageTotals }>> {
    const wanted = [...new Set(taskIds)];
    if (wanted.length === 0) return Promise.resolve([]);
    return this.guard('read task totals', async () => {
      // One statement for the whole list, grouped by task (the task_id index serves the filter).
      const { rows } = await sql<TotalsRow & { task_id: string }>`
        select task_id, ${totalsColumns}
        from router.model_calls where task_id = any(${wanted}::text[])
        group by task_id`.execute(this.db);
      const byTask = new Map(rows.map((r) => [r.task_id, toTotals(r)]));
      return wanted.map((taskId) => ({ taskId, total: byTask.get(taskId) ?? emptyTotals() }));
    });
  }

  recordVerdict(verdict: SubtaskVerdict): Promise<void> {
    return this.guard('record a verdict', async () => {
      await this.db
        .insertInto('subtask_verdicts')
        .values({ task_id: verdict.taskId, subtask_id: verdict.subtaskId, attempt: verdict.attempt, ok: verdict.ok, at: verdict.at })
        .onConflict((oc) => oc.columns(['task_id', 'subtask_id', 'attempt']).doNothing())
        .execute();
    });
  }

  modelStats(phase?: string): Promise<ModelPhaseStats[]> {
    return this.guard('read model stats', async () => {
      const filter = phase === undefined ? sql`true` : sql`c.phase = ${phase}`;
      const rows = await sql<
        TotalsRow & { spec: string; phase: string; failed_calls: number; verdicts: number; successes: number; p50: number | null; p99: number | null }
      >`with calls as (select * from router.model_calls c where ${filter}),
        judged as (
          select distinct c.spec, c.phase, c.task_id, c.subtask_id, c.attempt, v.ok
          from calls c join router.subtask_verdicts v
            on v.task_id = c.task_id and v.subtask_id = c.subtask_id and v.attempt = c.attempt
          where c.attempt > 0
        )
        select c.spec, c.phase, ${totalsColumns},
          (count(*) filter (where not c.ok))::int as failed_calls,
          coalesce((select count(*) from judged j where j.spec = c.spec and j.phase = c.phase), 0)::int as verdicts,
          coalesce((select count(*) from judged j where j.spec = c.spec and j.phase = c.phase and j.ok), 0)::int as successes,
          percentile_cont(0.5) within group (order by c.latency_ms) as p50,
          percentile_cont(0.99) within group (order by c.latency_ms) as p99
        from calls c group by c.spec, c.phase order by c.spec collate "C", c.phase collate "C"`.execute(this.db);
      return rows.rows.map((r) => ({
        spec: r.spec,
        phase: r.phase,
        totals: toTotals(r),
        failedCalls: Number(r.failed_calls),
        verdicts: Number(r.verdicts),
        successes: Number(r.successes),
        latencyP50Ms: Number(r.p50 ?? 0),
        latencyP99Ms: Number(r.p99 ?? 0),
      }));
    });
  }

  /** A database failure is operational: the caller may retry, and the message says what failed. */
  private async guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new OperationalError('USAGE_LEDGER_UNAVAILABLE', `the usage ledger could not ${what}: ${(err as Error).message}`, { cause: err });
    }
  }
}
