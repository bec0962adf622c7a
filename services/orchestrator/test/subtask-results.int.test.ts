/**
 * The `code` fan-out: Orion dispatches one SubtaskWork per subtask and publishes the code
 * state's ActivityResult exactly once, when the last subtask result arrives, whatever the
 * executors send twice, late or concurrently. Real NATS and PostgreSQL.
 */
import { randomBytes } from 'node:crypto';
import { Consumers, Streams, Subjects, type ActivityRequest, type SubtaskResult } from '@maestro/contracts';
import { sql } from '@maestro/db';
import { createGitRepo, startHarness, type Harness } from './harness.js';

let h: Harness;
let repo: { dir: string; remove(): Promise<void> };

const PLAN = {
  subtasks: ['s1', 's2', 's3'].map((id) => ({ id, title: `title ${id}`, instructions: `do ${id}`, files: [`src/${id}.js`] })),
};

beforeAll(async () => {
  h = await startHarness();
  h.router.replies.plan = JSON.stringify(PLAN);
  repo = await createGitRepo({ Makefile: 'test:\n\tnode --test\n', 'src/index.js': '' });
});

afterAll(async () => {
  await h?.close();
  await repo?.remove();
});

function request(run: { taskId: string; runId: string }, activity: string, attempt = 1): ActivityRequest {
  return {
    workId: `${run.runId}:${activity}:${attempt}`, runId: run.runId, state: activity, activity, attempt,
    context: { input: { taskId: run.taskId } }, requestedAt: new Date().toISOString(),
  };
}

function subtaskResult(run: { taskId: string; runId: string }, subtaskId: string, overrides: Partial<SubtaskResult> = {}): SubtaskResult {
  const attempt = overrides.attempt ?? 1;
  return {
    workId: `${run.taskId}:${subtaskId}:${attempt}`, taskId: run.taskId, runId: run.runId, subtaskId, attempt, ok: true,
    summary: `did ${subtaskId}`, filesChanged: [`src/${subtaskId}.js`], commitSha: `sha-${subtaskId}-${attempt}`,
    tests: { command: ['make', 'test'], exitCode: 0, passed: true, outputTail: 'ok' },
    executorId: 'executor-1', steps: 4, finishedAt: new Date().toISOString(), ...overrides,
  };
}

/** Publishes a result; a distinct message id makes a repeated result a real second delivery. */
async function deliver(result: SubtaskResult, copy = ''): Promise<void> {
  await h.bus.publish(Subjects.subtaskResult, result, { msgId: copy === '' ? result.workId : `${result.workId}#${copy}` });
}

async function settle(): Promise<void> {
  await h.settled(Streams.results.name, Consumers.orchestratorSubtaskResults);
  await h.settled(Streams.work.name, Consumers.orchestratorWork);
}

/** Every SubtaskWork Orion published for a task (before the stream's de-duplication). */
function workPublishes(taskId: string): string[] {
  return h.published.filter((p) => p.subject === Subjects.subtaskWork && p.msgId?.startsWith(`${taskId}:`)).map((p) => p.msgId ?? '');
}

/** Publishes the code request again under a fresh message id, as a restarted engine does after the duplicate window. */
async function republishCode(run: { taskId: string; runId: string }, attempt = 1): Promise<void> {
  const code = request(run, 'code', attempt);
  await h.bus.publish(Subjects.activityRequest('orchestrator', 'code'), code, { msgId: `${code.workId}#restart-${randomBytes(3).toString('hex')}` });
  await h.settled(Streams.work.name, Consumers.orchestratorWork);
}

function codeResultPublishes(workId: string) {
  return h.published.filter((p) => p.subject === Subjects.activityResult && p.msgId === workId);
}

/** Submits a task, plans it and requests code; resolves once the subtasks are dispatched. */
async function dispatched(): Promise<{ taskId: string; runId: string }> {
  const task = await h.client.call.submitTask({ tenant: '', goal: 'Split the calculator', repoPath: repo.dir, testCommand: [], project: '', idempotencyKey: '', budget: undefined, workflow: '', memoryScopes: [] });
  const run = { taskId: task.id, runId: task.runId };
  const plan = request(run, 'plan');
  await h.bus.publish(Subjects.activityRequest('orchestrator', 'plan'), plan, { msgId: plan.workId });
  await h.results.waitFor((rs) => rs.some((r) => r.workId === plan.workId), 'the plan result');
  const code = request(run, 'code');
  await h.bus.publish(Subjects.activityRequest('orchestrator', 'code'), code, { msgId: code.workId });
  await h.subtaskWork.waitFor((ws) => ws.filter((w) => w.taskId === run.taskId).length === 3, 'three subtasks dispatched');
  // The code request is done (its dispatches recorded) once the work consumer settles.
  await h.settled(Streams.work.name, Consumers.orchestratorWork);
  return run;
}

describe('the code activity', () => {
  it('dispatches one SubtaskWork per subtask and publishes no result yet', async () => {
    const run = await dispatched();
    const work = h.subtaskWork.items.filter((w) => w.taskId === run.taskId);
    expect(work.map((w) => [w.workId, w.subtaskId, w.attempt, w.files])).toEqual([
      [`${run.taskId}:s1:1`, 's1', 1, ['src/s1.js']],
      [`${run.taskId}:s2:1`, 's2', 1, ['src/s2.js']],
      [`${run.taskId}:s3:1`, 's3', 1, ['src/s3.js']],
    ]);
    expect(work[0]).toMatchObject({ runId: run.runId, goal: 'Split the calculator', repoPath: repo.dir, testCommand: ['make', 'test'], project: 'calc' });
    await settle();
    expect(codeResultPublishes(`${run.runId}:code:1`)).toHaveLength(0);
    const task = await h.client.call.getTask({ tenant: '', taskId: run.taskId });
    expect(task.subtasks.map((s) => s.status)).toEqual(['running', 'running', 'running']);
  });

  it('publishes exactly one result when the last of several results arrives, despite duplicates and stale attempts', async () => {
    const run = await dispatched();
    const codeWorkId = `${run.runId}:code:1`;

    await deliver(subtaskResult(run, 's1'));
    // Recorded before its duplicate arrives: the consumer handles several results at once, so
    // two deliveries in flight together could be recorded in either order.
    await settle();
    await deliver(subtaskResult(run, 's1', { ok: false, summary: 'a confused duplicate' }), 'dup');
    await deliver(subtaskResult(run, 's2', { attempt: 7 }));
    await deliver(subtaskResult(run, 's2'));
    await settle();
    expect(codeResultPublishes(codeWorkId)).toHaveLength(0);

    await deliver(subtaskResult(run, 's3'));
    const results = await h.results.waitFor((rs) => rs.some((r) => r.workId === codeWorkId), 'the code result');
    await deliver(subtaskResult(run, 's3'), 'dup');
    await deliver(subtaskResult(run, 's2'), 'dup');
    await settle();

    expect(codeResultPublishes(codeWorkId)).toHaveLength(1);
    const codeResults = results.filter((r) => r.workId === codeWorkId);
    expect(codeResults).toHaveLength(1);
    expect(codeResults[0]).toMatchObject({ runId: run.runId, state: 'code', activity: 'code', attempt: 1, ok: true });
    expect(codeResults[0]?.output?.subtasks).toEqual(
      ['s1', 's2', 's3'].map((id) => expect.objectContaining({ id, status: 'succeeded', commitSha: `sha-${id}-1` })),
    );
    const task = await h.client.call.getTask({ tenant: '', taskId: run.taskId });
    expect(task.subtasks.map((s) => [s.id, s.status, s.summary])).toEqual([
      ['s1', 'succeeded', 'did s1'],
      ['s2', 'succeeded', 'did s2'],
      ['s3', 'succeeded', 'did s3'],
    ]);
  });

  it('counts results that arrive at the same time, each exactly once', async () => {
    const run = await dispatched();
    const codeWorkId = `${run.runId}:code:1`;
    await Promise.all(['s1', 's2', 's3'].flatMap((id) => [deliver(subtaskResult(run, id)), deliver(subtaskResult(run, id), 'twin')]));
    await h.results.waitFor((rs) => rs.some((r) => r.workId === codeWorkId), 'the code result');
    await settle();
    expect(codeResultPublishes(codeWorkId)).toHaveLength(1);
  });

  it('fails listing each failed subtask, and a retry of the state re-dispatches only those', async () => {
    const run = await dispatched();
    await deliver(subtaskResult(run, 's1'));
    await deliver(subtaskResult(run, 's2', { ok: false, failureReason: 'tests still red after 3 tries', commitSha: undefined }));
    await deliver(subtaskResult(run, 's3'));
    const [failed] = (await h.results.waitFor((rs) => rs.some((r) => r.workId === `${run.runId}:code:1`), 'the code result')).filter(
      (r) => r.workId === `${run.runId}:code:1`,
    );
    expect(failed?.ok).toBe(false);
    expect(failed?.error).toEqual({ code: 'SUBTASKS_FAILED', message: '1 of 3 subtasks failed: s2 (title s2): tests still red after 3 tries' });

    const retry = request(run, 'code', 2);
    await h.bus.publish(Subjects.activityRequest('orchestrator', 'code'), retry, { msgId: `${retry.workId}-${randomBytes(2).toString('hex')}` });
    const redo = await h.subtaskWork.waitFor((ws) => ws.some((w) => w.workId === `${run.taskId}:s2:2`), 's2 re-dispatched');
    expect(redo.filter((w) => w.taskId === run.taskId).map((w) => w.workId)).toEqual([
      `${run.taskId}:s1:1`, `${run.taskId}:s2:1`, `${run.taskId}:s3:1`, `${run.taskId}:s2:2`,
    ]);
    await deliver(subtaskResult(run, 's2', { attempt: 1 }), 'late');
    await deliver(subtaskResult(run, 's2', { attempt: 2 }));
    const [ok] = (await h.results.waitFor((rs) => rs.some((r) => r.workId === retry.workId), 'the retried code result')).filter(
      (r) => r.workId === retry.workId,
    );
    expect(ok).toMatchObject({ ok: true, attempt: 2 });
    await settle();
    expect(codeResultPublishes(retry.workId)).toHaveLength(1);
  });

  it('records which attempt of each subtask the stream acknowledged', async () => {
    const run = await dispatched();
    await settle();
    const rows = await sql<{ id: string; attempt: number; dispatched_attempt: number | null; dispatched_at: Date | null }>`
      select id, attempt, dispatched_attempt, dispatched_at from orchestrator.subtasks where task_id = ${run.taskId} order by position`.execute(h.db);
    expect(rows.rows.map((r) => [r.id, r.attempt, r.dispatched_attempt])).toEqual([['s1', 1, 1], ['s2', 1, 1], ['s3', 1, 1]]);
    expect(rows.rows.every((r) => r.dispatched_at instanceof Date)).toBe(true);
  });

  it('does not publish subtasks still with executors again when the engine republishes the code request', async () => {
    const run = await dispatched();
    await deliver(subtaskResult(run, 's1'));
    await settle();
    expect(workPublishes(run.taskId)).toHaveLength(3);

    // The engine restarts and resumes the run: the same request (same workId and attempt)
    // arrives again, past the stream's duplicate window. s2 and s3 are still being worked on.
    await republishCode(run);
    expect(workPublishes(run.taskId)).toHaveLength(3);
    const task = await h.client.call.getTask({ tenant: '', taskId: run.taskId });
    expect(task.subtasks.map((s) => s.status)).toEqual(['succeeded', 'running', 'running']);

    // The fan-out still completes normally.
    await deliver(subtaskResult(run, 's2'));
    await deliver(subtaskResult(run, 's3'));
    await h.results.waitFor((rs) => rs.some((r) => r.workId === `${run.runId}:code:1` && r.ok), 'the code result');
  });

  it('republishes on a repeated request exactly the attempts the stream never acknowledged', async () => {
    const run = await dispatched();
    await settle();
    // As if Orion died between publishing s2 and recording it.
    await sql`update orchestrator.subtasks set dispatched_attempt = null, dispatched_at = null where task_id = ${run.taskId} and id = 's2'`.execute(h.db);

    await republishCode(run);
    expect(workPublishes(run.taskId)).toEqual([`${run.taskId}:s1:1`, `${run.taskId}:s2:1`, `${run.taskId}:s3:1`, `${run.taskId}:s2:1`]);
    const again = await sql<{ dispatched_attempt: number | null }>`
      select dispatched_attempt from orchestrator.subtasks where task_id = ${run.taskId} and id = 's2'`.execute(h.db);
    expect(again.rows[0]?.dispatched_attempt).toBe(1);

    // Once recorded, a further repeat publishes nothing.
    await republishCode(run);
    expect(workPublishes(run.taskId)).toHaveLength(4);
  });
});
