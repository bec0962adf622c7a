/**
 * Scheduling by concern through Orion, on the real NATS and PostgreSQL: subtasks on one file are
 * dispatched one after the other (the second when the first's result arrives, exactly once even
 * when that result is delivered twice), disjoint ones at once, a directory of the repository
 * holds back the files inside it, and a failed dependency fails its dependents without running
 * them. Every `SubtaskWork` carries its concerns and the task branch.
 */
import { Consumers, Streams, Subjects, SubmitTaskRequest, type ActivityRequest, type CompleteRequest, type SubtaskResult } from '@maestro/contracts';
import { createGitRepo, startHarness, type Harness } from './harness.js';

let h: Harness;
let repo: { dir: string; remove(): Promise<void> };

type Planned = { id: string; files?: string[]; dependsOn?: string[]; resources?: string[] };

/** Plans by goal: the goal names the plan to reply with. */
const PLANS: Record<string, Planned[]> = {
  'same file': [
    { id: 's1', files: ['src/math.js'] },
    { id: 's2', files: ['./src/math.js', 'test/math.test.js'] },
  ],
  disjoint: [
    { id: 's1', files: ['src/a.js'] },
    { id: 's2', files: ['src/b.js'], resources: ['port:3000'] },
  ],
  directory: [
    { id: 's1', files: ['src'] },
    { id: 's2', files: ['src/index.js'] },
    { id: 's3', files: ['README.md'] },
  ],
  dependency: [
    { id: 's1', files: ['src/a.js'] },
    { id: 's2', files: ['src/b.js'], dependsOn: ['s1'] },
    { id: 's3', files: ['src/c.js'] },
  ],
};

function planFor(request: CompleteRequest): string | undefined {
  const text = request.messages.map((m) => m.content).join('\n');
  const goal = Object.keys(PLANS).find((g) => text.includes(`## Goal\n${g}`));
  if (goal === undefined) return undefined;
  const subtasks = (PLANS[goal] ?? []).map((s) => ({ title: `title ${s.id}`, instructions: `do ${s.id}`, files: [], ...s }));
  return JSON.stringify({ subtasks });
}

beforeAll(async () => {
  h = await startHarness();
  h.router.replies.plan = planFor;
  repo = await createGitRepo({ Makefile: 'test:\n\tnode --test\n', 'src/index.js': '', 'src/math.js': '' });
});

afterAll(async () => {
  await h?.close();
  await repo?.remove();
});

type Run = { taskId: string; runId: string };

function request(run: Run, activity: string, attempt = 1): ActivityRequest {
  return {
    workId: `${run.runId}:${activity}:${attempt}`, runId: run.runId, state: activity, activity, attempt,
    context: { input: { taskId: run.taskId } }, requestedAt: new Date().toISOString(),
  };
}

function subtaskResult(run: Run, subtaskId: string, overrides: Partial<SubtaskResult> = {}): SubtaskResult {
  const attempt = overrides.attempt ?? 1;
  return {
    workId: `${run.taskId}:${subtaskId}:${attempt}`, taskId: run.taskId, runId: run.runId, subtaskId, attempt, ok: true,
    summary: `did ${subtaskId}`, filesChanged: [], commitSha: `sha-${subtaskId}`,
    tests: { command: ['make', 'test'], exitCode: 0, passed: true, outputTail: 'ok' },
    executorId: 'executor-1', steps: 4, finishedAt: new Date().toISOString(), ...overrides,
  };
}

async function deliver(result: SubtaskResult, copy = ''): Promise<void> {
  await h.bus.publish(Subjects.subtaskResult, result, { msgId: copy === '' ? result.workId : `${result.workId}#${copy}` });
}

async function settle(): Promise<void> {
  await h.settled(Streams.results.name, Consumers.orchestratorSubtaskResults);
  await h.settled(Streams.work.name, Consumers.orchestratorWork);
}

/** Every SubtaskWork Orion published for a task, by work id, in order (before the stream's de-duplication). */
function workPublishes(taskId: string): string[] {
  return h.published.filter((p) => p.subject === Subjects.subtaskWork && p.msgId?.startsWith(`${taskId}:`)).map((p) => (p.msgId ?? '').slice(taskId.length + 1));
}

/** Submits a task with `goal`, plans it and requests code; resolves once the code request is handled. */
async function coding(goal: string): Promise<Run> {
  const task = await h.client.call.submitTask(SubmitTaskRequest.fromPartial({ goal, repoPath: repo.dir }));
  const run = { taskId: task.id, runId: task.runId };
  const plan = request(run, 'plan');
  await h.bus.publish(Subjects.activityRequest('orchestrator', 'plan'), plan, { msgId: plan.workId });
  await h.results.waitFor((rs) => rs.some((r) => r.workId === plan.workId), 'the plan result');
  const code = request(run, 'code');
  await h.bus.publish(Subjects.activityRequest('orchestrator', 'code'), code, { msgId: code.workId });
  await h.subtaskWork.waitFor((ws) => ws.some((w) => w.taskId === run.taskId), 'a first subtask dispatched');
  await settle();
  return run;
}

function codeResult(run: Run) {
  return h.results.waitFor((rs) => rs.some((r) => r.workId === `${run.runId}:code:1`), 'the code result').then(
    (rs) => rs.find((r) => r.workId === `${run.runId}:code:1`),
  );
}

describe('scheduling by concern', () => {
  it('dispatches two subtasks on one file one after the other, the second exactly once', async () => {
    const run = await coding('same file');
    expect(workPublishes(run.taskId)).toEqual(['s1:1']);
    const first = h.subtaskWork.items.find((w) => w.taskId === run.taskId && w.subtaskId === 's1');
    expect(first).toMatchObject({ concerns: [`file:${repo.dir}/src/math.js`], taskBranch: `maestro/${run.taskId}` });
    let task = await h.client.call.getTask({ tenant: '', taskId: run.taskId });
    expect(task.subtasks.map((s) => [s.id, s.status])).toEqual([['s1', 'running'], ['s2', 'pending']]);
    expect(task.subtasks[1]?.concerns).toEqual([`file:${repo.dir}/src/math.js`, `file:${repo.dir}/test/math.test.js`]);

    await deliver(subtaskResult(run, 's1'));
    await h.subtaskWork.waitFor((ws) => ws.some((w) => w.workId === `${run.taskId}:s2:1`), 's2 dispatched');
    await settle();
    // The first result delivered again starts nothing.
    await deliver(subtaskResult(run, 's1'), 'dup');
    await settle();
    expect(workPublishes(run.taskId)).toEqual(['s1:1', 's2:1']);
    task = await h.client.call.getTask({ tenant: '', taskId: run.taskId });
    expect(task.subtasks.map((s) => [s.id, s.status])).toEqual([['s1', 'succeeded'], ['s2', 'running']]);

    await deliver(subtaskResult(run, 's2'));
    expect(await codeResult(run)).toMatchObject({ ok: true });
  });

  it('dispatches disjoint subtasks at once', async () => {
    const run = await coding('disjoint');
    expect(workPublishes(run.taskId)).toEqual(['s1:1', 's2:1']);
    const second = h.subtaskWork.items.find((w) => w.taskId === run.taskId && w.subtaskId === 's2');
    expect(second?.concerns).toEqual([`file:${repo.dir}/src/b.js`, 'port:3000']);
  });

  it('holds back the files inside a directory of the repository, and lets the rest run', async () => {
    const run = await coding('directory');
    expect(workPublishes(run.taskId)).toEqual(['s1:1', 's3:1']);
    const task = await h.client.call.getTask({ tenant: '', taskId: run.taskId });
    expect(task.subtasks[0]?.concerns).toEqual([`dir:${repo.dir}/src`]);
    await deliver(subtaskResult(run, 's1'));
    await h.subtaskWork.waitFor((ws) => ws.some((w) => w.workId === `${run.taskId}:s2:1`), 's2 dispatched after s1');
  });

  it('fails the dependents of a failed subtask without running them, and finishes the code activity', async () => {
    const run = await coding('dependency');
    expect(workPublishes(run.taskId)).toEqual(['s1:1', 's3:1']);
    await deliver(subtaskResult(run, 's1', { ok: false, failureReason: 'tests still red', commitSha: undefined }));
    await settle();
    let task = await h.client.call.getTask({ tenant: '', taskId: run.taskId });
    expect(task.subtasks.map((s) => [s.id, s.status, s.failureReason])).toEqual([
      ['s1', 'failed', 'tests still red'],
      ['s2', 'failed', 'not run: it depends on s1, which failed'],
      ['s3', 'running', ''],
    ]);
    expect(task.subtasks[1]?.dependsOn).toEqual(['s1']);
    await deliver(subtaskResult(run, 's3'));
    const result = await codeResult(run);
    expect(result?.ok).toBe(false);
    expect(result?.error?.message).toBe('2 of 3 subtasks failed: s1 (title s1): tests still red; s2 (title s2): not run: it depends on s1, which failed');
    expect(workPublishes(run.taskId)).toEqual(['s1:1', 's3:1']);
    // The code result is published inside the transaction that records s3; read once it committed.
    await settle();
    task = await h.client.call.getTask({ tenant: '', taskId: run.taskId });
    expect(task.subtasks.map((s) => s.status)).toEqual(['failed', 'failed', 'succeeded']);
  });
});
