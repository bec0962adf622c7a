/**
 * Migrations of the `orchestrator` schema, run by `dist/migrate.js` before the service starts
 * (Kubernetes: an init container; locally `make migrate`). Append new migrations; never edit
 * one that has shipped.
 */
import { sql, type Kysely, type Migration } from 'kysely';

const statements0001 = [
  sql`create schema if not exists orchestrator`,
  sql`create table orchestrator.tasks (
    id uuid primary key,
    goal text not null,
    repo_path text not null,
    test_command jsonb not null,
    project text not null,
    status text not null check (status in ('pending', 'running', 'succeeded', 'failed', 'cancelled')),
    run_id text,
    failure_reason text,
    review_summary text,
    review_approved boolean,
    idempotency_key text unique,
    plan_work_id text,
    review_work_id text,
    code_work_id text,
    code_run_id text,
    code_state text,
    code_activity text,
    code_attempt integer,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
  )`,
  sql`create index tasks_created_at_idx on orchestrator.tasks (created_at desc, id desc)`,
  sql`create index tasks_status_created_at_idx on orchestrator.tasks (status, created_at desc)`,
  sql`create index tasks_run_id_idx on orchestrator.tasks (run_id)`,
  sql`create table orchestrator.subtasks (
    task_id uuid not null references orchestrator.tasks (id) on delete cascade,
    id text not null,
    position integer not null,
    title text not null,
    instructions text not null,
    files jsonb not null default '[]',
    status text not null check (status in ('pending', 'running', 'succeeded', 'failed')),
    attempt integer not null default 0,
    summary text,
    commit_sha text,
    files_changed jsonb not null default '[]',
    failure_reason text,
    result jsonb,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    primary key (task_id, id)
  )`,
];

// Which attempt of a subtask JetStream has acknowledged: a repeated `code` request (an engine
// restart republishes it) must not publish that attempt again after the stream's duplicate
// window, or a second executor would start a subtask still in progress.
const statements0002 = [
  sql`alter table orchestrator.subtasks add column dispatched_attempt integer`,
  sql`alter table orchestrator.subtasks add column dispatched_at timestamptz`,
];

// The steps tactical agents took, from `maestro.events.work.step`. The primary key is a step's
// identity (see domain/agent-step.ts: the executor renumbers from the start whenever it runs a
// subtask again, so the step's time is part of it), ordered so that it also serves a task's
// listing, oldest first. No foreign key to subtasks: a new plan replaces them, the history stays.
const statements0003 = [
  sql`create table orchestrator.agent_steps (
    task_id uuid not null references orchestrator.tasks (id) on delete cascade,
    run_id text not null,
    subtask_id text not null,
    executor_id text not null,
    step integer not null,
    kind text not null,
    tool text,
    summary text not null,
    ok boolean not null,
    at timestamptz not null,
    recorded_at timestamptz not null default now(),
    primary key (task_id, at, subtask_id, executor_id, step)
  )`,
  sql`create index agent_steps_run_idx on orchestrator.agent_steps (run_id, at, subtask_id, executor_id, step)`,
];

// The work item's attempt a step belongs to, as the executor reports it on the step event. Null
// for steps recorded before this column and for executors that do not send one: guessing it from
// the subtask's current attempt would mislabel steps a lagging consumer reads late. Not part of
// the primary key: (task, at, subtask, executor, step) already identifies a step.
const statements0004 = [sql`alter table orchestrator.agent_steps add column attempt integer`];

// The order steps were stored in, which ListAgentSteps pages on: steps arrive out of order
// (several consumers and replicas, executors' clocks skewed), so a cursor on the executor's time
// skipped a step stored after it was issued with an earlier time. `bigserial` fills existing rows
// from the sequence as the column is added (in no particular order among them, which is fine:
// they were all stored before any cursor on seq existed). The indexes serve a task's and a run's
// listing; the primary key stays the step's identity.
const statements0005 = [
  sql`alter table orchestrator.agent_steps add column seq bigserial`,
  sql`alter table orchestrator.agent_steps add constraint agent_steps_seq_key unique (seq)`,
  sql`create index agent_steps_task_seq_idx on orchestrator.agent_steps (task_id, seq)`,
  sql`create index agent_steps_run_seq_idx on orchestrator.agent_steps (run_id, seq)`,
];

// Escalations of failed subtasks (roadmap 4-4). One row per escalation, keyed by the failed work
// item's id, so a redelivered or re-published escalation finds its row and is never decided twice:
// the strategic decision is stored with the effects it has on the subtasks, in one transaction.
// `claimed_until` keeps two deliveries of one escalation from asking the model at the same time.
// Subtasks gain the hint and the role (tactical or strategic, after a take-over) their next
// dispatch carries, and the status `replaced` (a re-plan put new subtasks in its place; it neither
// blocks the code activity nor counts as a failure).
const statements0006 = [
  sql`create table orchestrator.escalations (
    escalation_id text primary key,
    task_id uuid not null references orchestrator.tasks (id) on delete cascade,
    run_id text not null,
    subtask_id text not null,
    attempt integer not null,
    reason text not null,
    packet jsonb not null,
    status text not null check (status in ('pending', 'decided', 'failed', 'ignored')),
    decision jsonb,
    claimed_until timestamptz,
    created_at timestamptz not null default now(),
    decided_at timestamptz,
    updated_at timestamptz not null default now()
  )`,
  sql`create index escalations_task_idx on orchestrator.escalations (task_id, created_at)`,
  sql`alter table orchestrator.subtasks add column hint text`,
  sql`alter table orchestrator.subtasks add column role text check (role in ('tactical', 'strategic'))`,
  sql`alter table orchestrator.subtasks drop constraint subtasks_status_check`,
  sql`alter table orchestrator.subtasks add constraint subtasks_status_check
    check (status in ('pending', 'running', 'succeeded', 'failed', 'replaced'))`,
];

// What a task may spend on models (0 = no limit), the intent its goal was classified as, and
// the workflow definition it runs (picked from the intent by the router's policy, or named at
// submit). Tasks stored before this migration ran the `coding` workflow without a budget.
const statements0007 = [
  sql`alter table orchestrator.tasks add column budget_usd double precision not null default 0`,
  sql`alter table orchestrator.tasks add column budget_tokens bigint not null default 0`,
  sql`alter table orchestrator.tasks add column intent text`,
  sql`alter table orchestrator.tasks add column intent_confidence double precision`,
  sql`alter table orchestrator.tasks add column intent_reason text`,
  sql`alter table orchestrator.tasks add column workflow text not null default 'coding'`,
];

// Scheduling by concern and delivery. Subtasks gain what the plan declared (`depends_on`, the
// `resources` besides files), the concerns Orion derived from both (lock-manager names on the
// task's repository), and `replaces` (the subtask a re-plan put them in place of, which fixes
// their place in plan order). Existing subtasks get empty lists: they run as before, in parallel
// unless they share a file. Tasks gain the delivery mode their workflow asked for, the
// delivery outcome once the review decided, and the tests preflight's baseline found failing.
const statements0008 = [
  sql`alter table orchestrator.subtasks add column depends_on jsonb not null default '[]'`,
  sql`alter table orchestrator.subtasks add column resources jsonb not null default '[]'`,
  sql`alter table orchestrator.subtasks add column concerns jsonb not null default '[]'`,
  sql`alter table orchestrator.subtasks add column replaces text`,
  sql`alter table orchestrator.tasks add column delivery_mode text check (delivery_mode in ('branch', 'fast-forward'))`,
  sql`alter table orchestrator.tasks add column delivery jsonb`,
  sql`alter table orchestrator.tasks add column baseline_failures jsonb`,
];

// The task branch's commit the review read, so delivery delivers exactly what was reviewed and
// refuses when the branch moved on since. Existing rows get null (not recorded): delivering a
// review stored before this migration is refused with that reason.
const statements0009 = [sql`alter table orchestrator.tasks add column review_sha text`];

// What a step showed beyond its summary: the memories a `recall` step put in a prompt and what a
// `condensation` step did, as one JSON document (`domain/agent-step.ts`, AgentStepDetails); null
// for the other steps and for every step recorded before.
const statements0010 = [sql`alter table orchestrator.agent_steps add column details jsonb`];

// How preflight's baseline run exited when it failed. Its own migration, as 0008 was applied
// before the column existed; `if not exists` because for a while 0008 itself added it, so a
// database migrated then has it already.
const statements0011 = [sql`alter table orchestrator.tasks add column if not exists baseline_exit_code integer`];

// What the task view shows of a subtask's last attempt: the executor that ran it, the worktree it
// ran in and the test gate's verdict (domain/subtask-evidence.ts). Subtasks with a stored result
// get theirs from it, the verdict in the words `toVerdict` uses; the others stay null.
const statements0012 = [
  sql`alter table orchestrator.subtasks add column executor_id text`,
  sql`alter table orchestrator.subtasks add column worktree text`,
  sql`alter table orchestrator.subtasks add column verdict text`,
  sql`update orchestrator.subtasks set
    executor_id = nullif(result->>'executorId', ''),
    worktree = nullif(result->>'worktree', ''),
    verdict = case when jsonb_typeof(result->'tests') = 'object' then
      (case when (result->'tests'->>'passed')::boolean then 'passed: ' else 'failed: ' end)
      || coalesce((select string_agg(part, ' ') from jsonb_array_elements_text(result->'tests'->'command') as part), '')
      || case when result->'tests'->>'exitCode' is null then ' did not exit (killed or timed out)' else ' exited ' || (result->'tests'->>'exitCode') end
    end
    where result is not null`,
];

// The trace context of the task's first traced work (the SubmitTask call, normally), kept so
// that work driven later by messages and timers joins the task's one trace
// (`store/postgres-task-trace-store.ts`). Null for tasks submitted before, until their next work.
const statements0013 = [sql`alter table orchestrator.tasks add column trace_context jsonb`];

// What the viewer shows of a step without matching live events: a model step's call (who
// answered, tokens, cost, as one JSON document), how long any step took, and a tool step's
// arguments and observation (bounded by the executor, `WorkStepLimits`). Null for steps that have
// none and for every step recorded before.
const statements0014 = [
  sql`alter table orchestrator.agent_steps add column model_call jsonb`,
  sql`alter table orchestrator.agent_steps add column duration_ms integer`,
  sql`alter table orchestrator.agent_steps add column arguments text`,
  sql`alter table orchestrator.agent_steps add column observation text`,
];

// Every task belongs to a tenant: `default` for the tasks that existed, as for what an internal
// caller submits. Idempotency keys are per tenant (a second tenant's key must never return the
// first tenant's task), and a tenant's ListTasks pages newest first within the tenant.
const statements0015 = [
  sql`alter table orchestrator.tasks add column tenant text not null default 'default'`,
  sql`alter table orchestrator.tasks drop constraint tasks_idempotency_key_key`,
  sql`alter table orchestrator.tasks add constraint tasks_tenant_idempotency_key_key unique (tenant, idempotency_key)`,
  sql`create index tasks_tenant_created_idx on orchestrator.tasks (tenant, created_at)`,
];

// The strategic model's answer of a task run on the read-only `explain` workflow; null for the rest.
const statements0016 = [sql`alter table orchestrator.tasks add column answer text`];

// Whose preferences apply to a task besides the project's (`user:<id>`, `team:<id>`), as submitted;
// every recall for the task names them. A JSON array like the task's other lists; tasks that
// existed get none, which is what they recalled with.
const statements0017 = [sql`alter table orchestrator.tasks add column memory_scopes jsonb not null default '[]'`];

/** Every migration of the schema, by name (sorted by name when applied). */
export const orchestratorMigrations: Record<string, Migration> = {
  '0001_init': {
    async up(db: Kysely<unknown>): Promise<void> {
      for (const statement of statements0001) await statement.execute(db);
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await sql`drop table if exists orchestrator.subtasks`.execute(db);
      await sql`drop table if exists orchestrator.tasks`.execute(db);
    },
  },
  '0002_subtask_dispatch': {
    async up(db: Kysely<unknown>): Promise<void> {
      for (const statement of statements0002) await statement.execute(db);
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await sql`alter table orchestrator.subtasks drop column if exists dispatched_at`.execute(db);
      await sql`alter table orchestrator.subtasks drop column if exists dispatched_attempt`.execute(db);
    },
  },
  '0003_agent_steps': {
    async up(db: Kysely<unknown>): Promise<void> {
      for (const statement of statements0003) await statement.execute(db);
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await sql`drop table if exists orchestrator.agent_steps`.execute(db);
    },
  },
  '0004_agent_step_attempt': {
    async up(db: Kysely<unknown>): Promise<void> {
      for (const statement of statements0004) await statement.execute(db);
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await sql`alter table orchestrator.agent_steps drop column if exists attempt`.execute(db);
    },
  },
  '0005_agent_step_seq': {
    async up(db: Kysely<unknown>): Promise<void> {
      for (const statement of statements0005) await statement.execute(db);
    },
    async down(db: Kysely<unknown>): Promise<void> {
      // Dropping the column drops its constraint, indexes and owned sequence too.
      await sql`alter table orchestrator.agent_steps drop column if exists seq`.execute(db);
    },
  },
  '0006_escalations': {
    async up(db: Kysely<unknown>): Promise<void> {
      for (const statement of statements0006) await statement.execute(db);
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await sql`drop table if exists orchestrator.escalations`.execute(db);
      // Subtasks a re-plan replaced have no place in the old statuses: they count as failed.
      await sql`update orchestrator.subtasks set status = 'failed' where status = 'replaced'`.execute(db);
      await sql`alter table orchestrator.subtasks drop constraint subtasks_status_check`.execute(db);
      await sql`alter table orchestrator.subtasks add constraint subtasks_status_check
        check (status in ('pending', 'running', 'succeeded', 'failed'))`.execute(db);
      await sql`alter table orchestrator.subtasks drop column if exists role`.execute(db);
      await sql`alter table orchestrator.subtasks drop column if exists hint`.execute(db);
    },
  },
  '0007_task_budget_intent': {
    async up(db: Kysely<unknown>): Promise<void> {
      for (const statement of statements0007) await statement.execute(db);
    },
    async down(db: Kysely<unknown>): Promise<void> {
      for (const column of ['budget_usd', 'budget_tokens', 'intent', 'intent_confidence', 'intent_reason', 'workflow']) {
        await sql`alter table orchestrator.tasks drop column if exists ${sql.id(column)}`.execute(db);
      }
    },
  },
  '0008_subtask_concerns_delivery': {
    async up(db: Kysely<unknown>): Promise<void> {
      for (const statement of statements0008) await statement.execute(db);
    },
    async down(db: Kysely<unknown>): Promise<void> {
      for (const column of ['depends_on', 'resources', 'concerns', 'replaces']) {
        await sql`alter table orchestrator.subtasks drop column if exists ${sql.id(column)}`.execute(db);
      }
      for (const column of ['delivery_mode', 'delivery', 'baseline_failures']) {
        await sql`alter table orchestrator.tasks drop column if exists ${sql.id(column)}`.execute(db);
      }
    },
  },
  '0009_review_sha': {
    async up(db: Kysely<unknown>): Promise<void> {
      for (const statement of statements0009) await statement.execute(db);
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await sql`alter table orchestrator.tasks drop column if exists review_sha`.execute(db);
    },
  },
  '0010_agent_step_details': {
    async up(db: Kysely<unknown>): Promise<void> {
      for (const statement of statements0010) await statement.execute(db);
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await sql`alter table orchestrator.agent_steps drop column if exists details`.execute(db);
    },
  },
  '0011_baseline_exit_code': {
    async up(db: Kysely<unknown>): Promise<void> {
      for (const statement of statements0011) await statement.execute(db);
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await sql`alter table orchestrator.tasks drop column if exists baseline_exit_code`.execute(db);
    },
  },
  '0012_subtask_evidence': {
    async up(db: Kysely<unknown>): Promise<void> {
      for (const statement of statements0012) await statement.execute(db);
    },
    async down(db: Kysely<unknown>): Promise<void> {
      for (const column of ['executor_id', 'worktree', 'verdict']) {
        await sql`alter table orchestrator.subtasks drop column if exists ${sql.id(column)}`.execute(db);
      }
    },
  },
  '0013_task_trace_context': {
    async up(db: Kysely<unknown>): Promise<void> {
      for (const statement of statements0013) await statement.execute(db);
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await sql`alter table orchestrator.tasks drop column if exists trace_context`.execute(db);
    },
  },
  '0014_agent_step_call': {
    async up(db: Kysely<unknown>): Promise<void> {
      for (const statement of statements0014) await statement.execute(db);
    },
    async down(db: Kysely<unknown>): Promise<void> {
      for (const column of ['model_call', 'duration_ms', 'arguments', 'observation']) {
        await sql`alter table orchestrator.agent_steps drop column if exists ${sql.id(column)}`.execute(db);
      }
    },
  },
  '0015_task_tenant': {
    async up(db: Kysely<unknown>): Promise<void> {
      for (const statement of statements0015) await statement.execute(db);
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await sql`drop index if exists orchestrator.tasks_tenant_created_idx`.execute(db);
      await sql`alter table orchestrator.tasks drop constraint if exists tasks_tenant_idempotency_key_key`.execute(db);
      await sql`alter table orchestrator.tasks add constraint tasks_idempotency_key_key unique (idempotency_key)`.execute(db);
      await sql`alter table orchestrator.tasks drop column if exists tenant`.execute(db);
    },
  },
  '0016_task_answer': {
    async up(db: Kysely<unknown>): Promise<void> {
      for (const statement of statements0016) await statement.execute(db);
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await sql`alter table orchestrator.tasks drop column if exists answer`.execute(db);
    },
  },
  '0017_task_memory_scopes': {
    async up(db: Kysely<unknown>): Promise<void> {
      for (const statement of statements0017) await statement.execute(db);
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await sql`alter table orchestrator.tasks drop column if exists memory_scopes`.execute(db);
    },
  },
};
