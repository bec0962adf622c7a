/**
 * What the task view shows (issue 9): ListTasks filtered by goal (wildcards literal) and paged
 * with an opaque keyset cursor, newest first, never skipping or repeating a task created in the
 * same instant as another; and each subtask's executor (from its steps while it runs, then its
 * result), worktree and verdict. Real NATS and PostgreSQL through the gRPC API; the migration's
 * backfill on a scratch database.
 */
import { randomUUID } from 'node:crypto';
import { Consumers, Streams, Subjects, type ActivityRequest, type SubtaskResult, type WorkStepEvent } from '@maestro/contracts';
import { migrateToLatest, sql } from '@maestro/db';
import { createSilentLogger, UserError } from '@maestro/runtime';
import type { Kysely } from 'kysely';
import { orchestratorMigrations } from '../src/store/migrations.js';
import { ORCHESTRATOR_SCHEMA, type OrchestratorDatabase } from '../src/store/schema.js';
import { createGitRepo, createScratchDatabase, eventually, startHarness, type Harness } from './harness.js';

let h: Harness;
let repo: { dir: string; remove(): Promise<void> };

beforeAll(async () => {
  h = await startHarness();
  h.router.replies.plan = JSON.stringify({ subtasks: [{ id: 's1', title: 'title s1', instructions: 'do s1', files: ['src/s1.js'] }] });
  repo = await createGitRepo({ Makefile: 'test:\n\tnode --test\n', 'src/index.js': '' });
});

afterAll(async () => {
  await h?.close();
  await repo?.remove();
});

async function submit(goal: string): Promise<string> {
  const task = await h.client.call.submitTask({ tenant: '', goal, repoPath: repo.dir, testCommand: [], project: '', idempotencyKey: '', budget: undefined, workflow: '', memoryScopes: [] });
  return task.id;
}

async function list(request: { limit?: number; status?: string; goalContains?: string; pageToken?: string }) {
  return h.client.call.listTasks({ tenant: '', limit: request.limit ?? 0, status: request.status ?? '', goalContains: request.goalContains ?? '', pageToken: request.pageToken ?? '' });
}

async function refusedField(promise: Promise<unknown>): Promise<string | undefined> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UserError);
  return (err as UserError).field;
}

describe('ListTasks', () => {
  it('finds tasks by a piece of their goal, case-insensitively, with % and _ matching themselves', async () => {
    const tag = randomUUID().slice(0, 8);
    const percent = await submit(`Raise coverage to 100% (${tag})`);
    const plain = await submit(`raise coverage to 1000 lines (${tag})`);
    const underscore = await submit(`Rename foo_bar (${tag})`);
    const ids = async (goalContains: string) => (await list({ goalContains })).tasks.map((t) => t.id);

    expect(await ids(`RAISE COVERAGE`)).toEqual(expect.arrayContaining([percent, plain]));
    expect(await ids(`100% (${tag}`)).toEqual([percent]);
    expect(await ids(`foo_bar (${tag}`)).toEqual([underscore]);
    expect(await ids(`foo%bar (${tag}`)).toEqual([]);
    expect(await ids(`${tag}`)).toEqual([underscore, plain, percent]);
  });

  it('pages newest first with an opaque token, covering tasks created in the same instant exactly once', async () => {
    const tag = randomUUID().slice(0, 8);
    const created: string[] = [];
    for (let i = 0; i < 7; i++) created.push(await submit(`paging ${tag} #${i}`));
    // Four of them share one creation instant: only the id orders them.
    await sql`update orchestrator.tasks set created_at = '2030-01-01T00:00:00.123456Z' where id = any(${created.slice(1, 5)}::uuid[])`.execute(h.db);

    const seen: string[] = [];
    let token = '';
    let pages = 0;
    do {
      const page = await list({ limit: 2, goalContains: `paging ${tag}`, pageToken: token });
      seen.push(...page.tasks.map((t) => t.id));
      token = page.nextPageToken;
      pages++;
    } while (token !== '' && pages < 10);

    const all = (await list({ limit: 100, goalContains: `paging ${tag}` })).tasks.map((t) => t.id);
    expect(all).toHaveLength(7);
    expect(seen).toEqual(all);
    expect(pages).toBe(4);
    // The four sharing an instant come first (2030), newest first by id among themselves.
    expect(all.slice(0, 4)).toEqual([...created.slice(1, 5)].sort().reverse());
  });

  it('combines the status filter with paging, and ends with an empty token', async () => {
    const tag = randomUUID().slice(0, 8);
    const a = await submit(`cancel me ${tag} a`);
    const b = await submit(`cancel me ${tag} b`);
    await submit(`keep me ${tag}`);
    await sql`update orchestrator.tasks set status = 'cancelled' where id = any(${[a, b]}::uuid[])`.execute(h.db);
    const first = await list({ limit: 1, status: 'cancelled', goalContains: tag });
    expect(first.tasks.map((t) => t.id)).toEqual([b]);
    const second = await list({ limit: 1, status: 'cancelled', goalContains: tag, pageToken: first.nextPageToken });
    expect(second.tasks.map((t) => t.id)).toEqual([a]);
    expect(second.nextPageToken).toBe('');
  });

  it('refuses a bad page token or goal, naming the field', async () => {
    expect(await refusedField(list({ pageToken: 'not-a-token' }))).toBe('page_token');
    expect(await refusedField(list({ goalContains: 'x'.repeat(501) }))).toBe('goal_contains');
    expect(await refusedField(list({ limit: -1 }))).toBe('limit');
  });
});

function request(run: { taskId: string; runId: string }, activity: string): ActivityRequest {
  return {
    workId: `${run.runId}:${activity}:1`, runId: run.runId, state: activity, activity, attempt: 1,
    context: { input: { taskId: run.taskId } }, requestedAt: new Date().toISOString(),
  };
}

describe('a subtask’s executor, worktree and verdict', () => {
  it('shows the executor from its steps while it runs, then the worktree and verdict from its result', async () => {
    const taskId = await submit('Split the calculator (evidence)');
    const task = await h.client.call.getTask({ tenant: '', taskId });
    const run = { taskId, runId: task.runId };
    const plan = request(run, 'plan');
    await h.bus.publish(Subjects.activityRequest('orchestrator', 'plan'), plan, { msgId: plan.workId });
    await h.results.waitFor((rs) => rs.some((r) => r.workId === plan.workId), 'the plan result');
    const code = request(run, 'code');
    await h.bus.publish(Subjects.activityRequest('orchestrator', 'code'), code, { msgId: code.workId });
    await h.subtaskWork.waitFor((ws) => ws.some((w) => w.taskId === taskId), 'the subtask dispatched');
    await h.settled(Streams.work.name, Consumers.orchestratorWork);

    const before = await h.client.call.getTask({ tenant: '', taskId });
    expect(before.subtasks[0]).toMatchObject({ status: 'running', executorId: '', worktree: '', verdict: '' });

    // A late step of another attempt changes nothing; a step of the running attempt names its executor.
    const step = (attempt: number, executorId: string): WorkStepEvent => ({
      taskId, runId: run.runId, subtaskId: 's1', executorId, attempt, step: 0, kind: 'model', summary: 'thinking', ok: true, at: new Date().toISOString(),
    });
    await h.bus.publish(Subjects.workStep, step(7, 'stale-executor'));
    await h.bus.publish(Subjects.workStep, step(1, 'executor-a'));
    await h.settled(Streams.events.name, Consumers.orchestratorWorkSteps);
    expect((await h.client.call.getTask({ tenant: '', taskId })).subtasks[0]).toMatchObject({ status: 'running', executorId: 'executor-a', verdict: '' });

    const result: SubtaskResult = {
      workId: `${taskId}:s1:1`, taskId, runId: run.runId, subtaskId: 's1', attempt: 1, ok: false, summary: 'tests red',
      filesChanged: ['src/s1.js'], tests: { command: ['make', 'test'], exitCode: 2, passed: false, outputTail: 'not ok' },
      failureReason: 'tests failed', executorId: 'executor-a', steps: 3, finishedAt: new Date().toISOString(), worktree: '/tmp/wt/executor-a/t--s1--a1',
    };
    await h.bus.publish(Subjects.subtaskResult, result, { msgId: result.workId });
    await h.settled(Streams.results.name, Consumers.orchestratorSubtaskResults);
    const after = await eventually(() => h.client.call.getTask({ tenant: '', taskId }), (t) => t.subtasks[0]?.status === 'failed', 'the result recorded');
    expect(after.subtasks[0]).toMatchObject({ executorId: 'executor-a', worktree: '/tmp/wt/executor-a/t--s1--a1', verdict: 'failed: make test exited 2' });
  });
});

describe('migration 0012_subtask_evidence', () => {
  it('fills executor, worktree and verdict of subtasks stored before it from their results', async () => {
    const upTo0011 = Object.fromEntries(Object.entries(orchestratorMigrations).filter(([name]) => name < '0012'));
    const { db, drop } = await createScratchDatabase(upTo0011);
    try {
      const id = randomUUID();
      await sql`insert into orchestrator.tasks (id, goal, repo_path, test_command, project, status) values (${id}, 'g', '/r', '[]', 'p', 'running')`.execute(db);
      const results = {
        a: { executorId: 'e-1', worktree: '/wt/a', tests: { command: ['npm', 'test'], exitCode: 0, passed: true, outputTail: '' } },
        b: { executorId: 'e-2', tests: { command: ['pytest', '-q'], exitCode: null, passed: false, outputTail: '' } },
        c: { executorId: '' },
      };
      let position = 0;
      for (const [sub, result] of Object.entries(results)) {
        await sql`insert into orchestrator.subtasks (task_id, id, position, title, instructions, status, result)
          values (${id}, ${sub}, ${position++}, 't', 'i', 'failed', ${JSON.stringify(result)}::jsonb)`.execute(db);
      }
      await sql`insert into orchestrator.subtasks (task_id, id, position, title, instructions, status) values (${id}, 'd', 9, 't', 'i', 'pending')`.execute(db);
      await migrateToLatest(db as unknown as Kysely<unknown>, { schema: ORCHESTRATOR_SCHEMA, migrations: orchestratorMigrations, logger: createSilentLogger() });
      const rows = await (db as Kysely<OrchestratorDatabase>)
        .withSchema(ORCHESTRATOR_SCHEMA)
        .selectFrom('subtasks')
        .select(['id', 'executor_id', 'worktree', 'verdict'])
        .orderBy('position')
        .execute();
      expect(rows).toEqual([
        { id: 'a', executor_id: 'e-1', worktree: '/wt/a', verdict: 'passed: npm test exited 0' },
        { id: 'b', executor_id: 'e-2', worktree: null, verdict: 'failed: pytest -q did not exit (killed or timed out)' },
        { id: 'c', executor_id: null, worktree: null, verdict: null },
        { id: 'd', executor_id: null, worktree: null, verdict: null },
      ]);
    } finally {
      await drop();
    }
  });
});
