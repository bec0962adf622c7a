/**
 * The {@link RunStore} on PostgreSQL (kysely), in the `workflow` schema. Applying an event is
 * one statement, conditional on the row version the decision was made from (see `applyToRun`).
 */
import { sql, type Kysely, type Selectable, type SqlBool, type Transaction } from 'kysely';
import { Tenants } from '@maestro/contracts';
import { createSilentLogger, UnexpectedError, type Logger } from '@maestro/runtime';
import { isUuid, type RunContext, type RunStatus } from '../domain/index.js';
import type { ApplyOutcome, DefinitionRecord, HistoryPage, ListRunsQuery, NewRun, RunDecision, RunRecord, RunStore, TransitionRecord } from './run-store.js';
import { CachedHistory } from './cached-history.js';
import { GroupCommit, groupCommitDefaults } from './group-commit.js';
import { clearRunTimeout, writeStep, writeSteps, type StepToWrite, type UpdateDecision, type WrittenStep } from './postgres-run-step.js';
import { RunRowCache, runRowCacheDefaults } from './run-row-cache.js';
import type { DefinitionsTable, HistoryTable, RunsTable, WorkflowDatabase } from './workflow-database.js';


function toDefinition(row: Selectable<DefinitionsTable>): DefinitionRecord {
  const definition = row.source === null ? row.definition : (JSON.parse(row.source) as Record<string, unknown>);
  return { tenant: row.tenant, name: row.name, version: row.version, definition, hash: row.hash, createdAt: row.created_at };
}

function toRun(row: Selectable<RunsTable>): RunRecord {
  return {
    id: row.id,
    tenant: row.tenant,
    definitionTenant: row.definition_tenant,
    definitionName: row.definition_name,
    definitionVersion: row.definition_version,
    status: row.status as RunStatus,
    state: row.state,
    attempt: row.attempt,
    visits: row.visits,
    snapshot: row.snapshot,
    context: row.context as RunContext,
    idempotencyKey: row.idempotency_key,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    timeoutAt: row.timeout_at,
    finishedPublished: row.finished_published,
    traceParent: row.trace_parent,
  };
}

function toTransition(row: Selectable<HistoryTable>): TransitionRecord {
  return {
    runId: row.run_id,
    seq: row.seq,
    fromState: row.from_state,
    toState: row.to_state,
    eventType: row.event_type,
    event: row.event,
    at: row.at,
  };
}

/** Options of {@link PostgresRunStore}; defaults in {@link postgresRunStoreDefaults}. */
export interface PostgresRunStoreOptions {
  /**
   * Running runs whose last write by this store is kept in memory (see `run-row-cache.ts`), so
   * their next step costs one statement instead of a read and a write. 0 turns it off.
   * @default 1000
   */
  cachedRuns?: number;
  /**
   * Steps of different runs written together in one statement (one commit) when they arrive
   * while another step's write is in flight (`group-commit.ts`); a step that finds none in
   * flight is written at once. The same holds for `markFinishedPublished`. 1 turns batching
   * off: every step is its own statement.
   * @default 64
   */
  stepBatch?: number;
  /** Told when a batch of steps failed and its steps were written one by one. @default silent */
  logger?: Logger;
}

/** The defaults of {@link PostgresRunStoreOptions}, in one place. */
export const postgresRunStoreDefaults = { cachedRuns: runRowCacheDefaults.maxRuns, stepBatch: groupCommitDefaults.maxBatch } as const;

/** Definitions and runs in PostgreSQL; the schema comes from `workflowMigrations`. */
export class PostgresRunStore implements RunStore {
  private readonly cache: RunRowCache;
  /** The conditional step writes made on the pool, batched across runs; undefined when off. */
  private readonly steps: GroupCommit<StepToWrite, WrittenStep | undefined> | undefined;
  /** `markFinishedPublished` writes, batched the same way; undefined when off. */
  private readonly finishedMarks: GroupCommit<string, void> | undefined;

  constructor(
    private readonly db: Kysely<WorkflowDatabase>,
    options: PostgresRunStoreOptions = {},
  ) {
    this.cache = new RunRowCache({ maxRuns: options.cachedRuns ?? postgresRunStoreDefaults.cachedRuns });
    const stepBatch = options.stepBatch ?? postgresRunStoreDefaults.stepBatch;
    const logger = (options.logger ?? createSilentLogger()).child({ component: 'run-store' });
    this.steps =
      stepBatch > 1
        ? new GroupCommit({
            writeBatch: (steps) => writeSteps(db, steps),
            writeOne: (step) => writeStep(db, step.run, step.decision, step.rowVersion),
            keyOf: (step) => step.run.id,
            logger,
            maxBatch: stepBatch,
          })
        : undefined;
    this.finishedMarks =
      stepBatch > 1
        ? new GroupCommit({
            writeBatch: async (runIds) => {
              await this.markFinished(runIds);
              return runIds.map(() => undefined);
            },
            writeOne: (runId) => this.markFinished([runId]),
            keyOf: (runId) => runId,
            logger,
            maxBatch: stepBatch,
          })
        : undefined;
  }

  /**
   * Writes a step on the pool, applied only if the row is still `rowVersion`: with the steps of
   * other runs that wait for the same commit when batching is on. Resolves once committed.
   */
  private writeIfUnchanged(run: RunRecord, decision: UpdateDecision, rowVersion: string): Promise<WrittenStep | undefined> {
    return this.steps === undefined ? writeStep(this.db, run, decision, rowVersion) : this.steps.write({ run, decision, rowVersion });
  }

  async saveDefinition(name: string, definition: Record<string, unknown>, hash: string, tenant: string = Tenants.shared): Promise<{ definition: DefinitionRecord; created: boolean }> {
    return this.db.transaction().execute(async (trx) => {
      // Serializes saves of one (tenant, name), so two concurrent saves cannot both pick version n+1.
      await sql`select pg_advisory_xact_lock(hashtext(${`workflow.definitions:${tenant}:${name}`}))`.execute(trx);
      const latest = await this.latestDefinition(trx, tenant, name);
      if (latest !== undefined && latest.hash === hash) return { definition: toDefinition(latest), created: false };
      const row = await trx
        .insertInto('workflow.definitions')
        .values({ tenant, name, version: (latest?.version ?? 0) + 1, definition: JSON.stringify(definition), source: JSON.stringify(definition), hash })
        .returningAll()
        .executeTakeFirstOrThrow();
      return { definition: toDefinition(row), created: true };
    });
  }

  private latestDefinition(db: Kysely<WorkflowDatabase>, tenant: string, name: string) {
    return db.selectFrom('workflow.definitions').selectAll().where('tenant', '=', tenant).where('name', '=', name).orderBy('version', 'desc').limit(1).executeTakeFirst();
  }

  async getDefinition(name: string, version?: number, tenant: string = Tenants.shared): Promise<DefinitionRecord | undefined> {
    const row =
      version === undefined
        ? await this.latestDefinition(this.db, tenant, name)
        : await this.db.selectFrom('workflow.definitions').selectAll().where('tenant', '=', tenant).where('name', '=', name).where('version', '=', version).executeTakeFirst();
    return row === undefined ? undefined : toDefinition(row);
  }

  async listDefinitions(tenants?: readonly string[]): Promise<DefinitionRecord[]> {
    if (tenants !== undefined && tenants.length === 0) return [];
    let q = this.db
      .selectFrom('workflow.definitions')
      .selectAll()
      .distinctOn(['name', 'tenant'])
      .orderBy('name')
      .orderBy('tenant')
      .orderBy('version', 'desc');
    if (tenants !== undefined) q = q.where('tenant', 'in', [...tenants]);
    return (await q.execute()).map(toDefinition);
  }

  async listDefinitionVersions(name: string, tenant: string = Tenants.shared): Promise<DefinitionRecord[]> {
    const rows = await this.db.selectFrom('workflow.definitions').selectAll().where('tenant', '=', tenant).where('name', '=', name).orderBy('version', 'desc').execute();
    return rows.map(toDefinition);
  }

  async createRun(run: NewRun): Promise<{ run: RunRecord; created: boolean }> {
    const inserted = await this.db
      .insertInto('workflow.runs')
      .values({
        id: run.id,
        tenant: run.tenant ?? Tenants.default,
        definition_tenant: run.definitionTenant ?? Tenants.shared,
        definition_name: run.definitionName,
        definition_version: run.definitionVersion,
        status: run.status,
        state: run.state,
        attempt: run.attempt,
        visits: JSON.stringify(run.visits),
        snapshot: JSON.stringify(run.snapshot),
        context: JSON.stringify(run.context),
        idempotency_key: run.idempotencyKey ?? null,
        timeout_at: run.timeoutAt ?? null,
        trace_parent: run.traceParent ?? null,
      })
      .onConflict((oc) => oc.columns(['tenant', 'idempotency_key']).doNothing())
      .returningAll()
      .returning(sql<string>`xmin::text`.as('row_version'))
      .executeTakeFirst();
    if (inserted !== undefined) {
      const created = toRun(inserted);
      this.cache.remember(created, inserted.row_version, undefined, CachedHistory.empty);
      return { run: created, created: true };
    }
    const existing = await this.db
      .selectFrom('workflow.runs')
      .selectAll()
      .where('tenant', '=', run.tenant ?? Tenants.default)
      .where('idempotency_key', '=', run.idempotencyKey ?? null)
      .executeTakeFirst();
    if (existing === undefined) {
      // The conflicting row was deleted between the two statements; nothing deletes runs today.
      throw new UnexpectedError('RUN_CREATE_RACE', `run with idempotency key ${run.idempotencyKey} vanished during creation`);
    }
    return { run: toRun(existing), created: false };
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    if (!isUuid(id)) return undefined;
    const row = await this.db.selectFrom('workflow.runs').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toRun(row);
  }

  async listRuns(query: ListRunsQuery): Promise<RunRecord[]> {
    if (query.afterId !== undefined && !isUuid(query.afterId)) return [];
    let q = this.db.selectFrom('workflow.runs').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(query.limit);
    if (query.tenant !== undefined) q = q.where('tenant', '=', query.tenant);
    if (query.status !== undefined) q = q.where('status', '=', query.status);
    if (query.definitionName !== undefined) q = q.where('definition_name', '=', query.definitionName);
    if (query.definitionVersion !== undefined) q = q.where('definition_version', '=', query.definitionVersion);
    if (query.afterId !== undefined) {
      // The cursor run's own (created_at, id), read in the same statement: timestamps keep
      // their microseconds, which a JS Date would round away.
      const afterId = query.afterId;
      q = q.where(sql<SqlBool>`(created_at, id) < (select c.created_at, c.id from workflow.runs c where c.id = ${afterId})`);
    }
    return (await q.execute()).map(toRun);
  }

  async listRunning(afterId: string | undefined, limit: number): Promise<RunRecord[]> {
    let q = this.db.selectFrom('workflow.runs').selectAll().where('status', '=', 'running').orderBy('id').limit(limit);
    if (afterId !== undefined) q = q.where('id', '>', afterId);
    return (await q.execute()).map(toRun);
  }

  async countRunning(cap: number): Promise<number> {
    // The limit bounds the work however many runs there are.
    const row = await this.db
      .selectFrom((eb) => eb.selectFrom('workflow.runs').select('id').where('status', '=', 'running').limit(cap).as('running'))
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  async getHistory(runId: string, page: HistoryPage = {}): Promise<TransitionRecord[]> {
    if (!isUuid(runId)) return [];
    let q = this.db.selectFrom('workflow.history').selectAll().where('run_id', '=', runId).orderBy('seq');
    if (page.afterSeq !== undefined && page.afterSeq > 0) q = q.where('seq', '>', page.afterSeq);
    if (page.limit !== undefined) q = q.limit(page.limit);
    return (await q.execute()).map(toTransition);
  }

  async applyToRun(runId: string, decide: (run: RunRecord) => RunDecision): Promise<ApplyOutcome | undefined> {
    if (!isUuid(runId)) return undefined;
    // Optimistic first, as most steps meet no other writer. A run this process wrote last is
    // decided from the cache and written in one statement that applies only if the row is
    // still the version the cache holds (PostgreSQL's `xmin`, new with every update of the
    // row): one round trip per step. An ignore is not checked by any write, so it is judged
    // again on the stored row. Otherwise (or when the cached version is stale): read the run
    // with its version, decide, write conditionally. When someone wrote in between, the step
    // is decided again under the row lock, so a step is never lost and never applied twice.
    const cached = this.cache.get(runId);
    if (cached !== undefined) {
      const decision = decide(cached.run);
      if (decision.kind === 'update') {
        const written = await this.writeIfUnchanged(cached.run, decision, cached.rowVersion);
        // Written on the cached version: the history is what was kept plus this step's row.
        if (written !== undefined) return this.remembered(written, cached.history);
        this.cache.forget(runId);
      }
    }
    const seen = await this.db.selectFrom('workflow.runs').selectAll().select(sql<string>`xmin::text`.as('row_version')).where('id', '=', runId).executeTakeFirst();
    if (seen === undefined) return undefined;
    const written = await this.decideAndWrite(this.db, toRun(seen), decide, seen.row_version, true);
    if (written !== undefined) return this.remembered(written);
    const locked = await this.db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('workflow.runs').selectAll().select(sql<string>`xmin::text`.as('row_version')).where('id', '=', runId).forUpdate().executeTakeFirst();
      return row === undefined ? undefined : this.decideAndWrite(trx, toRun(row), decide, row.row_version, false);
    });
    // Cached only once committed: a rolled-back write left the row as it was.
    return locked === undefined ? undefined : this.remembered(locked);
  }

  async listTimedOut(now: Date, limit: number): Promise<RunRecord[]> {
    const rows = await this.db
      .selectFrom('workflow.runs')
      .selectAll()
      .where('status', '=', 'running')
      .where('timeout_at', '<=', now)
      .orderBy('timeout_at')
      .limit(limit)
      .execute();
    return rows.map(toRun);
  }

  async applyToTimedOutRun(runId: string, now: Date, decide: (run: RunRecord) => RunDecision): Promise<ApplyOutcome | undefined> {
    if (!isUuid(runId)) return undefined;
    const written = await this.db.transaction().execute(async (trx) => {
      // The conditions are checked again under the lock: a result may have moved the run on
      // since the sweep listed it. A row another transaction holds (a replica's sweep, a
      // result being applied) is skipped, not waited for; the next sweep looks again.
      const row = await trx
        .selectFrom('workflow.runs')
        .selectAll()
        .select(sql<string>`xmin::text`.as('row_version'))
        .where('id', '=', runId)
        .where('status', '=', 'running')
        .where('timeout_at', '<=', now)
        .forUpdate()
        .skipLocked()
        .executeTakeFirst();
      return row === undefined ? undefined : this.decideAndWrite(trx, toRun(row), decide, row.row_version, false);
    });
    return written === undefined ? undefined : this.remembered(written);
  }

  async postponeTimeout(runId: string, now: Date, until: Date): Promise<boolean> {
    if (!isUuid(runId)) return false;
    // Only a deadline that is still the due one: a result may have set a new one meanwhile.
    this.cache.forget(runId);
    const result = await this.db
      .updateTable('workflow.runs')
      .set({ timeout_at: until })
      .where('id', '=', runId)
      .where('status', '=', 'running')
      .where('timeout_at', '<=', now)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async markFinishedPublished(runId: string): Promise<void> {
    if (!isUuid(runId)) return;
    await (this.finishedMarks === undefined ? this.markFinished([runId]) : this.finishedMarks.write(runId));
  }

  /** Records `run.finished` as published for finished runs among `runIds`, in one statement. */
  private async markFinished(runIds: readonly string[]): Promise<void> {
    await sql`update workflow.runs set finished_published = true where id = any(${[...runIds]}::uuid[]) and status != 'running'`.execute(this.db);
  }

  async listFinishedUnpublished(withinMs: number, afterId: string | undefined, limit: number): Promise<RunRecord[]> {
    let q = this.db
      .selectFrom('workflow.runs')
      .selectAll()
      .where('finished_published', '=', false)
      .where('status', '!=', 'running')
      // The database's clock, the one that wrote updated_at.
      .where('updated_at', '>=', sql<Date>`now() - make_interval(secs => ${withinMs / 1000})`)
      .orderBy('id')
      .limit(limit);
    if (afterId !== undefined) q = q.where('id', '>', afterId);
    return (await q.execute()).map(toRun);
  }

  /**
   * Lets `decide` judge the run (read as `rowVersion`) and writes what it decided, through `db`
   * (a transaction that holds the row lock, or the pool). When `conditional`, every write
   * applies only if the row is still `rowVersion`, and undefined means it was not: nothing was
   * written.
   */
  private async decideAndWrite(
    db: Kysely<WorkflowDatabase>,
    run: RunRecord,
    decide: (run: RunRecord) => RunDecision,
    rowVersion: string,
    conditional: boolean,
  ): Promise<WrittenStep | undefined> {
    const decision = decide(run);
    const condition = conditional ? rowVersion : undefined;
    if (decision.kind === 'update') return conditional ? this.writeIfUnchanged(run, decision, rowVersion) : writeStep(db, run, decision);
    if (decision.clearTimeout === true && run.timeoutAt !== null) {
      const cleared = await clearRunTimeout(db, run, condition);
      if (cleared === undefined) return undefined;
      return { outcome: { applied: false, run: { ...run, timeoutAt: null }, reason: decision.reason }, rowVersion: cleared };
    }
    return { outcome: { applied: false, run, reason: decision.reason }, rowVersion };
  }

  /**
   * Caches the run as the step left it (for its next step) and returns the outcome; with the
   * run's whole history when the step was written on a cached version whose history was kept.
   */
  private remembered(written: WrittenStep, historyBefore?: CachedHistory): ApplyOutcome {
    const { outcome } = written;
    const history = historyBefore !== undefined && outcome.applied ? historyBefore.after(outcome.transition) : undefined;
    this.cache.remember(outcome.run, written.rowVersion, written.json, history);
    return history === undefined || !outcome.applied ? outcome : { ...outcome, knownHistory: () => history.records() };
  }
}
