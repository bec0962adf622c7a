/**
 * The strategic activities end to end: activity requests published on the real NATS server,
 * Orion planning and reviewing through (stand-in) router and memory servers, results read back
 * from `maestro.results.activity`, state in a real PostgreSQL database.
 */
import { randomBytes } from 'node:crypto';
import { Consumers, Streams, Subjects, type ActivityRequest, type SubmitTaskRequest } from '@maestro/contracts';
import { OperationalError, UserError } from '@maestro/runtime';
import { countRows, createGitRepo, startHarness, type Harness } from './harness.js';

let h: Harness;
let repo: { dir: string; remove(): Promise<void> };

const PLAN = {
  subtasks: [
    { id: 's1', title: 'Add multiply', instructions: 'Export multiply(a, b) from src/math.js', files: ['src/math.js'] },
    { id: 's2', title: 'Test multiply', instructions: 'Cover multiply in test/math.test.js', files: ['test/math.test.js'] },
  ],
};

beforeAll(async () => {
  h = await startHarness();
  repo = await createGitRepo({
    'package.json': JSON.stringify({ name: 'calc', scripts: { test: 'node --test' } }),
    'src/math.js': 'export const add = (a, b) => a + b;\n',
    'test/math.test.js': "import test from 'node:test';\n",
  });
});

afterAll(async () => {
  await h?.close();
  await repo?.remove();
});

async function submit(overrides: Partial<SubmitTaskRequest> = {}): Promise<{ taskId: string; runId: string }> {
  const task = await h.client.call.submitTask({ tenant: '',
    goal: 'Add a multiply function', repoPath: repo.dir, testCommand: [], project: '', idempotencyKey: '', budget: undefined, workflow: '', memoryScopes: [], ...overrides,
  });
  return { taskId: task.id, runId: task.runId };
}

function activityRequest(run: { taskId: string; runId: string }, activity: string, attempt = 1): ActivityRequest {
  return {
    workId: `${run.runId}:${activity}:${attempt}`,
    runId: run.runId,
    state: activity,
    activity,
    attempt,
    context: { input: { taskId: run.taskId } },
    requestedAt: new Date().toISOString(),
  };
}

/** Publishes a request; `msgId` differs from the workId to force a real second delivery. */
async function publishRequest(request: ActivityRequest, msgId = request.workId): Promise<void> {
  await h.bus.publish(Subjects.activityRequest('orchestrator', request.activity), request, { msgId });
}

async function resultFor(workId: string, count = 1) {
  const items = await h.results.waitFor((rs) => rs.filter((r) => r.workId === workId).length >= count, `result of ${workId}`);
  return items.filter((r) => r.workId === workId);
}

describe('intake', () => {
  it('hands the run the test command and project', async () => {
    const run = await submit();
    const request = activityRequest(run, 'intake');
    await publishRequest(request);
    const [result] = await resultFor(request.workId);
    expect(result).toMatchObject({ ok: true, runId: run.runId, state: 'intake', attempt: 1, output: { testCommand: ['npm', 'test'], project: 'calc' } });
  });
});

describe('plan', () => {
  it('recalls memory, asks the strategic model with the repo listing, and stores the subtasks', async () => {
    h.memory.notes = [{ kind: 'preference', content: 'Use named exports only' }];
    h.router.replies.plan = `Here is my plan:\n\`\`\`json\n${JSON.stringify(PLAN)}\n\`\`\``;
    const run = await submit();
    const request = activityRequest(run, 'plan');
    await publishRequest(request);
    const [result] = await resultFor(request.workId);

    expect(result?.ok).toBe(true);
    expect(result?.output?.subtasks).toEqual(PLAN.subtasks);
    expect(result?.output?.model).toEqual({ provider: 'fixture', model: 'fixed-replies', scripted: true });
    expect(h.memory.recalls.at(-1)).toMatchObject({ project: 'calc', query: 'Add a multiply function' });
    const call = h.router.calls.at(-1);
    expect(call).toMatchObject({ role: 'strategic', intent: 'plan', taskId: run.taskId, runId: run.runId });
    const prompt = call?.messages.map((m) => m.content).join('\n') ?? '';
    expect(prompt).toContain('Add a multiply function');
    expect(prompt).toContain('src/math.js');
    expect(prompt).toContain('Test command: npm test');
    expect(prompt).toContain('Use named exports only');

    const task = await h.client.call.getTask({ tenant: '', taskId: run.taskId });
    expect(task.subtasks.map((s) => [s.id, s.status, s.files])).toEqual([
      ['s1', 'pending', ['src/math.js']],
      ['s2', 'pending', ['test/math.test.js']],
    ]);
  });

  it('answers a redelivered request with the stored plan, without asking the model again or duplicating subtasks', async () => {
    h.router.replies.plan = JSON.stringify(PLAN);
    const run = await submit();
    const request = activityRequest(run, 'plan');
    await publishRequest(request);
    await resultFor(request.workId);
    const calls = h.router.calls.length;
    const rows = await countRows(h.db, 'subtasks');

    await publishRequest(request, `${request.workId}:again-${randomBytes(3).toString('hex')}`);
    await h.settled(Streams.work.name, Consumers.orchestratorWork);
    expect(h.router.calls.length).toBe(calls);
    expect(await countRows(h.db, 'subtasks')).toBe(rows);
    // The repeated result carries the same message id, so the stream keeps only the first.
    await h.settled(Streams.results.name, 'test-activity-results');
    expect(h.results.items.filter((r) => r.workId === request.workId)).toHaveLength(1);
  });

  it('fails with a reason quoting the reply when the model does not answer with a plan', async () => {
    h.router.replies.plan = 'Sure! First, open src/math.js and add the function.';
    const run = await submit();
    const request = activityRequest(run, 'plan');
    await publishRequest(request);
    const [result] = await resultFor(request.workId);
    expect(result?.ok).toBe(false);
    expect(result?.error?.code).toBe('PLAN_REPLY_INVALID');
    expect(result?.error?.message).toContain('the plan reply is not JSON');
    expect(result?.error?.message).toContain('Sure! First, open src/math.js');
    expect((await h.client.call.getTask({ tenant: '', taskId: run.taskId })).subtasks).toEqual([]);
  });

  it('fails naming the offending path when a subtask escapes the repository', async () => {
    h.router.replies.plan = JSON.stringify({ subtasks: [{ id: 's1', title: 't', instructions: 'i', files: ['../etc/passwd'] }] });
    const run = await submit();
    const request = activityRequest(run, 'plan');
    await publishRequest(request);
    const [result] = await resultFor(request.workId);
    expect(result?.ok).toBe(false);
    expect(result?.error?.message).toContain('subtasks[0].files[0]: must stay inside the repository');
  });
});

describe('plan with memory', () => {
  afterEach(() => {
    h.memory.failWith = undefined;
    h.memory.notes = [];
  });

  it('recalls with the opening of a goal longer than memory takes, and plans with the notes', async () => {
    h.memory.notes = [{ kind: 'preference', content: 'Keep functions pure' }];
    h.router.replies.plan = JSON.stringify(PLAN);
    const paragraph = 'Refactor the calculator so that every operation lives in its own module and is covered by tests. ';
    const goal = paragraph.repeat(60).trim(); // about 6,000 characters, well inside the goal limit
    const run = await submit({ goal });
    const request = activityRequest(run, 'plan');
    await publishRequest(request);
    const [result] = await resultFor(request.workId);

    expect(result?.ok).toBe(true);
    const recall = h.memory.recalls.at(-1);
    expect(recall?.query.length).toBeLessThanOrEqual(1000);
    expect(goal.startsWith(recall?.query ?? '-')).toBe(true);
    expect(goal.charAt(recall?.query.length ?? 0)).toBe(' '); // cut between words, not inside one
    const prompt = h.router.calls.at(-1)?.messages.map((m) => m.content).join('\n') ?? '';
    expect(prompt).toContain('Keep functions pure');
    expect(prompt).toContain(goal); // the model still gets the whole goal
  });

  it('logs a refused recall at error level (an Orion bug) and still plans, without notes', async () => {
    h.memory.notes = [{ kind: 'preference', content: 'Never shown' }];
    h.memory.failWith = new UserError('INVALID_ARGUMENT', 'query: must be at most 2000 characters', { field: 'query' });
    h.router.replies.plan = JSON.stringify(PLAN);
    const run = await submit();
    const request = activityRequest(run, 'plan');
    await publishRequest(request);
    const [result] = await resultFor(request.workId);

    expect(result?.ok).toBe(true);
    expect(h.router.calls.at(-1)?.messages.map((m) => m.content).join('\n')).not.toContain('Never shown');
    const line = h.logs.find((l) => l.message.startsWith('memory refused the recall query') && l.fields.taskId === run.taskId);
    expect(line).toMatchObject({ level: 'error', fields: { code: 'INVALID_ARGUMENT' } });
  });

  it('logs an unavailable memory at warn and still plans, without notes', async () => {
    h.memory.notes = [{ kind: 'preference', content: 'Never shown' }];
    h.memory.failWith = new OperationalError('MEMORY_DOWN', 'memory is restarting');
    h.router.replies.plan = JSON.stringify(PLAN);
    const run = await submit();
    const request = activityRequest(run, 'plan');
    await publishRequest(request);
    const [result] = await resultFor(request.workId);

    expect(result?.ok).toBe(true);
    expect(h.router.calls.at(-1)?.messages.map((m) => m.content).join('\n')).not.toContain('Never shown');
    const lines = h.logs.filter((l) => l.message.startsWith('memory') && l.fields.taskId === run.taskId);
    expect(lines.map((l) => [l.level, l.message])).toEqual([['warn', 'memory recall failed; planning without notes']]);
  });
});

describe('review', () => {
  it('shows the model the evidence and stores its verdict', async () => {
    h.router.replies.plan = JSON.stringify(PLAN);
    h.router.replies.review = '```json\n{"approved": true, "summary": "multiply exists and is tested"}\n```';
    const run = await submit();
    const plan = activityRequest(run, 'plan');
    await publishRequest(plan);
    await resultFor(plan.workId);
    const code = activityRequest(run, 'code');
    await publishRequest(code);
    await h.subtaskWork.waitFor((ws) => ws.filter((w) => w.taskId === run.taskId).length === 2, 'two subtasks dispatched');
    for (const id of ['s1', 's2']) {
      await h.bus.publish(Subjects.subtaskResult, {
        workId: `${run.taskId}:${id}:1`, taskId: run.taskId, runId: run.runId, subtaskId: id, attempt: 1, ok: true,
        summary: `did ${id}`, filesChanged: [`src/${id}.js`], commitSha: `sha-${id}`,
        tests: { command: ['npm', 'test'], exitCode: 0, passed: true, outputTail: `# pass ${id}` },
        executorId: 'e1', steps: 3, finishedAt: new Date().toISOString(),
      });
    }
    await resultFor(code.workId);

    const review = activityRequest(run, 'review');
    await publishRequest(review);
    const [result] = await resultFor(review.workId);
    expect(result).toMatchObject({ ok: true, output: { approved: true, summary: 'multiply exists and is tested' } });
    const prompt = h.router.calls.at(-1)?.messages.map((m) => m.content).join('\n') ?? '';
    expect(h.router.calls.at(-1)?.intent).toBe('review');
    expect(prompt).toContain('did s1');
    expect(prompt).toContain('sha-s2');
    expect(prompt).toContain('src/s2.js');
    expect(prompt).toContain('# pass s1');
    expect((await h.client.call.getTask({ tenant: '', taskId: run.taskId })).reviewSummary).toBe('multiply exists and is tested');
  });
});

describe('a task that already ended', () => {
  it('fails every activity of its run with TASK_ENDED, doing no work', async () => {
    h.router.replies.plan = JSON.stringify(PLAN);
    const run = await submit({ goal: 'Add a power function' });
    const cancelled = await h.client.call.cancelTask({ tenant: '', taskId: run.taskId, reason: 'not needed after all' });
    expect(cancelled.status).toBe('cancelled');
    const calls = h.router.calls.length;
    const recalls = h.memory.recalls.length;
    const dispatchedBefore = h.subtaskWork.items.length;

    for (const activity of ['intake', 'plan', 'code', 'review']) {
      const request = activityRequest(run, activity);
      await publishRequest(request);
      const [result] = await resultFor(request.workId);
      expect(result).toMatchObject({ ok: false, runId: run.runId, state: activity, error: { code: 'TASK_ENDED' } });
      expect(result?.error?.message).toContain(`task ${run.taskId} already was cancelled`);
    }
    await h.settled(Streams.work.name, Consumers.orchestratorWork);
    expect(h.router.calls.length).toBe(calls);
    expect(h.memory.recalls.length).toBe(recalls);
    expect(h.subtaskWork.items.length).toBe(dispatchedBefore);
    expect((await h.client.call.getTask({ tenant: '', taskId: run.taskId })).subtasks).toEqual([]);
  });

  it('stores no plan when the task is cancelled while the model is thinking', async () => {
    h.router.replies.plan = JSON.stringify(PLAN);
    h.router.hold = true;
    const run = await submit({ goal: 'Add a root function' });
    const request = activityRequest(run, 'plan');
    await publishRequest(request);
    await h.results.waitFor(() => h.router.calls.some((c) => c.taskId === run.taskId), 'the plan call');
    await h.client.call.cancelTask({ tenant: '', taskId: run.taskId, reason: 'changed my mind' });
    h.router.release();

    const [result] = await resultFor(request.workId);
    expect(result).toMatchObject({ ok: false, error: { code: 'TASK_ENDED' } });
    expect((await h.client.call.getTask({ tenant: '', taskId: run.taskId })).subtasks).toEqual([]);
  });
});

describe('requests Orion cannot serve', () => {
  it('fails an unknown activity and a context without a task', async () => {
    const unknown = { ...activityRequest({ taskId: 'x', runId: 'run-x' }, 'deploy') };
    await publishRequest(unknown);
    const noTask = { ...activityRequest({ taskId: 'x', runId: 'run-y' }, 'plan'), context: {} };
    await publishRequest(noTask);
    expect((await resultFor(unknown.workId))[0]?.error?.code).toBe('UNKNOWN_ACTIVITY');
    expect((await resultFor(noTask.workId))[0]?.error?.code).toBe('BAD_ACTIVITY_CONTEXT');
    await h.settled(Streams.work.name, Consumers.orchestratorWork);
  });
});
