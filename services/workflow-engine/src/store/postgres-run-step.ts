/**
 * The statements of a step on PostgreSQL: the decided position, and its history row when the
 * step is a transition, written in **one statement** (a data-modifying CTE, so its own
 * transaction when run on the pool), optionally conditional on the row still being the version
 * the decision was made from (`xmin`). Written as raw SQL, not through kysely's query builder:
 * this is the engine's hottest statement, and building and compiling the builder's tree on
 * every step cost more CPU than the statement's round trip. It returns only what the database
 * decides (row version, timestamps, seq), not the row: the caller has the rest.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { RunDecision } from '../domain/index.js';
import type { RunJson } from './run-row-cache.js';
import type { ApplyOutcome, RunRecord, TransitionRecord } from './run-store.js';
import type { WorkflowDatabase } from './workflow-database.js';

/** An `update` decision. */
export type UpdateDecision = Extract<RunDecision, { kind: 'update' }>;

/** What a step wrote, with the row version it left (to cache) and the JSON text written. */
export interface WrittenStep {
  outcome: ApplyOutcome;
  /** The row's version after the step (or as read, when nothing was written). */
  rowVersion: string;
  /** The JSON columns as written; absent when the step wrote none. */
  json?: RunJson;
}

interface UpdatedRow {
  row_version: string;
  updated_at: Date;
  timeout_at: Date | null;
  finished_published: boolean;
}

interface TransitionRow extends UpdatedRow {
  seq: number;
  at: Date;
}

/** `and xmin = <version>` when the write is conditional on the row version, nothing otherwise. */
function versionCheck(rowVersion: string | undefined): RawBuilder<unknown> {
  return rowVersion === undefined ? sql`` : sql`and xmin = ${rowVersion}::xid`;
}

/**
 * Writes an `update` decision for `run` through `db` (a transaction holding the row lock, or
 * the pool). With `rowVersion` the write happens only if the row is still that version;
 * undefined means it was not, and nothing was written.
 */
export async function writeStep(db: Kysely<WorkflowDatabase>, run: RunRecord, decision: UpdateDecision, rowVersion?: string): Promise<WrittenStep | undefined> {
  const { position } = decision;
  const json: RunJson = { snapshot: JSON.stringify(position.snapshot), context: JSON.stringify(position.context), visits: JSON.stringify(position.visits) };
  // The step that finishes a run owes a run.finished, whatever the row said before (rows from
  // before migration 0004 could claim a running run had published it).
  const finishedPublished = position.status !== 'running' && run.status === 'running' ? sql`false` : sql`finished_published`;
  const timeoutAt = decision.timeoutAt !== undefined ? sql`${decision.timeoutAt}::timestamptz` : sql`timeout_at`;
  const update = sql`update workflow.runs set
      status = ${position.status}, state = ${position.state}, attempt = ${position.attempt},
      visits = ${json.visits}::jsonb, snapshot = ${json.snapshot}::jsonb, context = ${json.context}::jsonb,
      updated_at = now(), finished_published = ${finishedPublished}, timeout_at = ${timeoutAt}
    where id = ${run.id}::uuid ${versionCheck(rowVersion)}
    returning id, xmin::text as row_version, updated_at, timeout_at, finished_published`;
  const t = decision.transition;
  if (t === undefined) {
    const row = (await sql<UpdatedRow>`${update}`.execute(db)).rows[0];
    if (row === undefined) return undefined;
    return { outcome: { applied: true, run: written(run, decision, row), transition: undefined }, rowVersion: row.row_version, json };
  }
  // The history row in the same statement: inserted only if the update happened. The run row
  // is locked by the update, so max(seq) + 1 cannot race with another writer of this run.
  const row = (
    await sql<TransitionRow>`with updated as (${update}),
      inserted as (
        insert into workflow.history (run_id, seq, from_state, to_state, event_type, event)
        select u.id, (select coalesce(max(h.seq), 0) + 1 from workflow.history h where h.run_id = u.id),
          ${t.fromState}::text, ${t.toState}::text, ${t.eventType}::text, ${JSON.stringify(t.event)}::jsonb
        from updated u
        returning seq, at
      )
      select u.row_version, u.updated_at, u.timeout_at, u.finished_published, i.seq, i.at from updated u, inserted i`.execute(db)
  ).rows[0];
  if (row === undefined) return undefined;
  const transition: TransitionRecord = { runId: run.id, seq: row.seq, fromState: t.fromState, toState: t.toState, eventType: t.eventType, event: t.event, at: row.at };
  return { outcome: { applied: true, run: written(run, decision, row), transition }, rowVersion: row.row_version, json };
}

/** One step for {@link writeSteps}: the run it was decided from, the decision, and the row version it needs. */
export interface StepToWrite {
  run: RunRecord;
  decision: UpdateDecision;
  /** Written only if the row is still this version; undefined: unconditionally (the row is locked). */
  rowVersion?: string;
}

interface BatchRow extends UpdatedRow {
  id: string;
  seq: number | null;
  at: Date | null;
}

/**
 * Writes the steps of **different runs** in one statement (so one transaction and one commit),
 * each run row and its history row exactly as {@link writeStep} would, each conditional on its
 * own row version: a row that moved on is left alone and its entry is undefined, the others are
 * written. The steps go in as arrays (`unnest`), sorted by run id so that concurrent batches
 * lock rows in one order. Throws when the statement fails, and then nothing was written.
 */
export async function writeSteps(db: Kysely<WorkflowDatabase>, steps: readonly StepToWrite[]): Promise<(WrittenStep | undefined)[]> {
  const idOf = (i: number): string => steps[i]!.run.id;
  const order = steps.map((_, i) => i).sort((a, b) => (idOf(a) < idOf(b) ? -1 : idOf(a) > idOf(b) ? 1 : 0));
  const columns = {
    id: [] as string[],
    rowVersion: [] as (string | null)[],
    status: [] as string[],
    state: [] as string[],
    attempt: [] as number[],
    visits: [] as string[],
    snapshot: [] as string[],
    context: [] as string[],
    resetFinished: [] as boolean[],
    setTimeout: [] as boolean[],
    timeoutAt: [] as (Date | null)[],
    hasTransition: [] as boolean[],
    fromState: [] as (string | null)[],
    toState: [] as (string | null)[],
    eventType: [] as (string | null)[],
    event: [] as (string | null)[],
  };
  const json: RunJson[] = [];
  for (const i of order) {
    const { run, decision, rowVersion } = steps[i]!;
    const { position, transition: t } = decision;
    const text: RunJson = { snapshot: JSON.stringify(position.snapshot), context: JSON.stringify(position.context), visits: JSON.stringify(position.visits) };
    json[i] = text;
    columns.id.push(run.id);
    columns.rowVersion.push(rowVersion ?? null);
    columns.status.push(position.status);
    columns.state.push(position.state);
    columns.attempt.push(position.attempt);
    columns.visits.push(text.visits);
    columns.snapshot.push(text.snapshot);
    columns.context.push(text.context);
    // As in writeStep: the step that finishes a run owes a run.finished.
    columns.resetFinished.push(position.status !== 'running' && run.status === 'running');
    columns.setTimeout.push(decision.timeoutAt !== undefined);
    columns.timeoutAt.push(decision.timeoutAt ?? null);
    columns.hasTransition.push(t !== undefined);
    columns.fromState.push(t?.fromState ?? null);
    columns.toState.push(t?.toState ?? null);
    columns.eventType.push(t?.eventType ?? null);
    columns.event.push(t === undefined ? null : JSON.stringify(t.event));
  }
  const c = columns;
  const rows = (
    await sql<BatchRow>`with input as (
        select * from unnest(${c.id}::uuid[], ${c.rowVersion}::text[], ${c.status}::text[], ${c.state}::text[], ${c.attempt}::int[],
          ${c.visits}::text[], ${c.snapshot}::text[], ${c.context}::text[], ${c.resetFinished}::bool[], ${c.setTimeout}::bool[],
          ${c.timeoutAt}::timestamptz[], ${c.hasTransition}::bool[], ${c.fromState}::text[], ${c.toState}::text[],
          ${c.eventType}::text[], ${c.event}::text[])
          as v(id, row_version, status, state, attempt, visits, snapshot, context, reset_finished, set_timeout, timeout_at,
            has_transition, from_state, to_state, event_type, event)
      ),
      updated as (
        update workflow.runs r set
          status = v.status, state = v.state, attempt = v.attempt,
          visits = v.visits::jsonb, snapshot = v.snapshot::jsonb, context = v.context::jsonb, updated_at = now(),
          finished_published = case when v.reset_finished then false else r.finished_published end,
          timeout_at = case when v.set_timeout then v.timeout_at else r.timeout_at end
        from input v
        where r.id = v.id and (v.row_version is null or r.xmin = v.row_version::xid)
        returning r.id, r.xmin::text as row_version, r.updated_at, r.timeout_at, r.finished_published
      ),
      inserted as (
        insert into workflow.history (run_id, seq, from_state, to_state, event_type, event)
        select u.id, (select coalesce(max(h.seq), 0) + 1 from workflow.history h where h.run_id = u.id),
          v.from_state, v.to_state, v.event_type, v.event::jsonb
        from updated u join input v on v.id = u.id
        where v.has_transition
        returning run_id, seq, at
      )
      select u.id, u.row_version, u.updated_at, u.timeout_at, u.finished_published, i.seq, i.at
      from updated u left join inserted i on i.run_id = u.id`.execute(db)
  ).rows;
  const byId = new Map(rows.map((row) => [row.id, row]));
  return steps.map(({ run, decision }, i) => {
    const row = byId.get(run.id);
    if (row === undefined) return undefined;
    const t = decision.transition;
    const transition: TransitionRecord | undefined =
      t === undefined ? undefined : { runId: run.id, seq: row.seq!, fromState: t.fromState, toState: t.toState, eventType: t.eventType, event: t.event, at: row.at! };
    return { outcome: { applied: true, run: written(run, decision, row), transition }, rowVersion: row.row_version, json: json[i]! };
  });
}

/**
 * Clears the run's activity deadline (an ignore that asks for it: only the sweep's bookkeeping,
 * not a change of the run, so `updated_at` stays); undefined when the row was not `rowVersion`.
 */
export async function clearRunTimeout(db: Kysely<WorkflowDatabase>, run: RunRecord, rowVersion?: string): Promise<string | undefined> {
  const row = (
    await sql<{ row_version: string }>`update workflow.runs set timeout_at = null
      where id = ${run.id}::uuid ${versionCheck(rowVersion)} returning xmin::text as row_version`.execute(db)
  ).rows[0];
  return row?.row_version;
}

/** The run after the step: what it was, moved to the decided position, with the database's timestamps. */
function written(run: RunRecord, decision: UpdateDecision, row: UpdatedRow): RunRecord {
  return { ...run, ...decision.position, updatedAt: row.updated_at, timeoutAt: row.timeout_at, finishedPublished: row.finished_published };
}
