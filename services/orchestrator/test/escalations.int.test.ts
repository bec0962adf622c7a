/**
 * Escalations end to end through Orion: a failed subtask's escalation published on the real
 * NATS, the strategic model (a stand-in router) asked for a decision, and each decision's end
 * state in the real PostgreSQL and on the bus: a hint or a take-over re-dispatches the subtask, a
 * re-plan replaces it, an abandon fails the code activity at once and, with it, the task; the
 * limits (per subtask and per task) fail the subtask as before; a duplicate is decided once;
 * replies that do not parse are asked again.
 */
import { randomBytes } from 'node:crypto';
import {
  Consumers,
  EscalationDecidedEventSchema,
  Streams,
  Subjects,
  SubmitTaskRequest,
  type ActivityRequest,
  type ActivityResult,
  type CompleteRequest,
  type Escalation,
  type SubtaskResult,
} from '@maestro/contracts';
import { sql } from '@maestro/db';
import { OperationalError, UserError } from '@maestro/runtime';
import { createGitRepo, startHarness, type Harness } from './harness.js';

let h: Harness;
let repo: { dir: string; remove(): Promise<void> };

/** A plan of independent subtasks (one file each), all dispatched at once. */
const planOf = (ids: readonly string[]) => ({
  subtasks: ids.map((id) => ({ id, title: `title ${id}`, instructions: `do ${id}`, files: [`src/${id}.js`] })),
});

const PLAN = planOf(['s1', 's2']);

const HINT = JSON.stringify({ decision: 'hint', reason: 'the zero check is missing', hint: 'throw a RangeError when b is 0' });

beforeAll(async () => {
  h = await startHarness({ escalationLimits: { perSubtask: 2, perTask: 6 }, activityOptions: { replyReAsks: 2 } });
  h.router.replies.plan = JSON.stringify(PLAN);
  repo = await createGitRepo({ Makefile: 'test:\n\tnode --test\n', 'src/index.js': '' });
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

function subtaskResult(run: Run, subtaskId: string, attempt = 1): SubtaskResult {
  return {
    workId: `${run.taskId}:${subtaskId}:${attempt}`, taskId: run.taskId, runId: run.runId, subtaskId, attempt, ok: true,
    summary: `did ${subtaskId}`, filesChanged: [`src/${subtaskId}.js`], commitSha: `sha-${subtaskId}-${attempt}`,
    tests: { command: ['make', 'test'], exitCode: 0, passed: true, outputTail: 'ok' },
    executorId: 'executor-1', steps: 4, finishedAt: new Date().toISOString(),
  };
}

/** The escalation an executor publishes when attempt `attempt` of a subtask fails. */
function escalation(run: Run, subtaskId: string, attempt = 1): Escalation {
  const workId = `${run.taskId}:${subtaskId}:${attempt}`;
  const failureReason = 'stuck: declared done 2 times with the same failing test output';
  return {
    escalationId: workId, taskId: run.taskId, runId: run.runId, subtaskId, attempt, executorId: 'executor-1',
    raisedAt: new Date().toISOString(),
    packet: {
      reason: 'tests_failed',
      subtask: { title: `title ${subtaskId}`, instructions: `do ${subtaskId}`, files: [`src/${subtaskId}.js`] },
      attempts: [
        { step: 5, summary: 'make test: failed (exit 2)', ok: false },
        { step: 8, summary: 'make test: failed (exit 2)', ok: false },
      ],
      steps: 4,
      lastDiff: `diff --git a/src/${subtaskId}.js b/src/${subtaskId}.js\n+export const divide = (a, b) => a / b;`,
      failingTestOutput: 'AssertionError: Missing expected exception (RangeError).',
      agentAccount: 'The implementation is correct; the test must be wrong.',
      filesChanged: [`src/${subtaskId}.js`],
      tokensSpent: { input: 1200, output: 300 },
    },
    result: {
      workId, taskId: run.taskId, runId: run.runId, subtaskId, attempt, ok: false, summary: 'The implementation is correct.',
      filesChanged: [`src/${subtaskId}.js`], failureReason, executorId: 'executor-1', steps: 4, finishedAt: new Date().toISOString(),
      tests: { command: ['make', 'test'], exitCode: 2, passed: false, outputTail: 'AssertionError: Missing expected exception (RangeError).' },
    },
  };
}

/** Publishes an escalation; a distinct `copy` makes a repeat a real second delivery. */
async function escalate(e: Escalation, copy = ''): Promise<void> {
  await h.bus.publish(Subjects.escalation(e.taskId), e, { msgId: copy === '' ? e.escalationId : `${e.escalationId}#${copy}` });
}

async function deliver(result: SubtaskResult): Promise<void> {
  await h.bus.publish(Subjects.subtaskResult, result, { msgId: result.workId });
}

async function settle(): Promise<void> {
  await h.settled(Streams.escalations.name, Consumers.orchestratorEscalations);
  await h.settled(Streams.results.name, Consumers.orchestratorSubtaskResults);
  await h.settled(Streams.work.name, Consumers.orchestratorWork);
}

/** Submits a task, plans it (as `plan`, by default {@link PLAN}) and requests code; resolves once every subtask is dispatched. */
async function dispatched(plan: { subtasks: readonly unknown[] } = PLAN): Promise<Run> {
  const task = await h.client.call.submitTask(SubmitTaskRequest.fromPartial({ goal: 'Add divide()', repoPath: repo.dir }));
  const run = { taskId: task.id, runId: task.runId };
  const planning = request(run, 'plan');
  h.router.replies.plan = JSON.stringify(plan);
  try {
    await h.bus.publish(Subjects.activityRequest('orchestrator', 'plan'), planning, { msgId: planning.workId });
    await h.results.waitFor((rs) => rs.some((r) => r.workId === planning.workId), 'the plan result');
  } finally {
    h.router.replies.plan = JSON.stringify(PLAN);
  }
  const code = request(run, 'code');
  await h.bus.publish(Subjects.activityRequest('orchestrator', 'code'), code, { msgId: code.workId });
  const count = plan.subtasks.length;
  await h.subtaskWork.waitFor((ws) => ws.filter((w) => w.taskId === run.taskId).length === count, `${count} subtasks dispatched`);
  await h.settled(Streams.work.name, Consumers.orchestratorWork);
  return run;
}

function escalateCalls(run: Run): CompleteRequest[] {
  return h.router.calls.filter((c) => c.intent === 'escalate' && c.taskId === run.taskId);
}

/**
 * The code activity's result, once Orion has also committed what it recorded with it (the
 * result is published just before that commit).
 */
async function codeResult(run: Run): Promise<ActivityResult> {
  const workId = `${run.runId}:code:1`;
  const items = await h.results.waitFor((rs) => rs.some((r) => r.workId === workId), 'the code result');
  await settle();
  return items.find((r) => r.workId === workId)!;
}

function workOf(run: Run, workId: string) {
  return h.subtaskWork.waitFor((ws) => ws.some((w) => w.workId === `${run.taskId}:${workId}`), `${workId} dispatched`).then(
    (ws) => ws.find((w) => w.workId === `${run.taskId}:${workId}`)!,
  );
}

describe('an escalation decided with a hint', () => {
  it('runs the subtask again with the hint, and the task succeeds listing the escalation', async () => {
    h.router.replies.escalate = HINT;
    const run = await dispatched();
    await escalate(escalation(run, 's1'));

    const again = await workOf(run, 's1:2');
    expect(again).toMatchObject({ subtaskId: 's1', attempt: 2, hint: 'throw a RangeError when b is 0' });
    expect(again.role).toBeUndefined();

    // The strategic model was asked once, with role and intent, and saw the failure packet.
    const [call] = escalateCalls(run);
    expect(escalateCalls(run)).toHaveLength(1);
    expect(call).toMatchObject({ role: 'strategic', intent: 'escalate', taskId: run.taskId, runId: run.runId, subtaskId: 's1', attempt: 1 });
    const prompt = call?.messages.map((m) => m.content).join('\n') ?? '';
    expect(prompt).toContain('Missing expected exception (RangeError)');
    expect(prompt).toContain('The implementation is correct; the test must be wrong.');
    expect(prompt).toContain('+export const divide');

    await deliver(subtaskResult(run, 's1', 2));
    await deliver(subtaskResult(run, 's2'));
    const result = await codeResult(run);
    expect(result.ok).toBe(true);
    expect(result.output?.escalations).toEqual([
      { subtaskId: 's1', attempt: 1, reason: 'tests_failed', decision: 'hint', decisionReason: 'the zero check is missing', hint: 'throw a RangeError when b is 0' },
    ]);

    // In the task (GetTask) and in its steps.
    const task = await h.client.call.getTask({ tenant: '', taskId: run.taskId });
    expect(task.escalations).toEqual([
      expect.objectContaining({ escalationId: `${run.taskId}:s1:1`, subtaskId: 's1', attempt: 1, reason: 'tests_failed', decision: 'hint' }),
    ]);
    // With the failure packet as the executor handed it over (the code activity's output above has none).
    expect(task.escalations[0]?.packet).toEqual(escalation(run, 's1').packet);
    expect(task.subtasks.map((s) => [s.id, s.status])).toEqual([['s1', 'succeeded'], ['s2', 'succeeded']]);
    const steps = await h.client.call.listAgentSteps({ tenant: '', taskId: run.taskId, runId: '', subtaskId: 's1', limit: 0, after: '' });
    expect(steps.steps.map((s) => [s.kind, s.executorId, s.attempt, s.ok])).toEqual([
      ['escalation', 'orion', 1, false],
      ['decision', 'orion', 1, true],
    ]);
    expect(steps.steps[1]?.summary).toContain('hint: the zero check is missing');

    // In the run's history, as two notes.
    expect(h.workflow.notes.filter((n) => n.runId === run.runId).map((n) => [n.type, n.noteId, n.data?.['decision'] ?? null])).toEqual([
      ['escalation.raised', `${run.taskId}:s1:1:raised`, null],
      ['escalation.decided', `${run.taskId}:s1:1:decided`, 'hint'],
    ]);
    expect(h.workflow.notes.find((n) => n.runId === run.runId && n.type === 'escalation.decided')?.data).toMatchObject({ subtaskId: 's1', attempt: 1, reason: 'the zero check is missing', hint: 'throw a RangeError when b is 0' });

    // And on the bus for live viewers.
    const decided = await h.bus.jsm.streams.getMessage(h.bus.namespace.stream(Streams.events.name), {
      last_by_subj: h.bus.namespace.subject(Subjects.escalationDecided),
    });
    expect(EscalationDecidedEventSchema.parse(decided?.json())).toMatchObject({ runId: run.runId, subtaskId: 's1', decision: 'hint' });
  });
});

describe('an escalation decided with a re-plan', () => {
  it('replaces the subtask with new ones, dispatches them, and the task succeeds without counting it failed', async () => {
    h.router.replies.escalate = JSON.stringify({
      decision: 'replan',
      reason: 'too big for one agent',
      subtasks: [
        { title: 'Write divide()', instructions: 'Only the function', files: ['src/divide.js'] },
        { title: 'Test divide()', instructions: 'Only the test', files: ['./test/divide.test.js'] },
      ],
    });
    const run = await dispatched();
    await escalate(escalation(run, 's1'));

    const first = await workOf(run, 's1.1:1');
    const second = await workOf(run, 's1.2:1');
    expect([first.title, first.files, second.title, second.files]).toEqual(['Write divide()', ['src/divide.js'], 'Test divide()', ['test/divide.test.js']]);
    const task = await h.client.call.getTask({ tenant: '', taskId: run.taskId });
    expect(task.subtasks.map((s) => [s.id, s.status])).toEqual([
      ['s1', 'replaced'],
      ['s2', 'running'],
      ['s1.1', 'running'],
      ['s1.2', 'running'],
    ]);
    expect(task.subtasks[0]?.summary).toContain('replaced by s1.1, s1.2');

    for (const id of ['s1.1', 's1.2', 's2']) await deliver(subtaskResult(run, id));
    const result = await codeResult(run);
    expect(result.ok).toBe(true);
    expect(result.output?.escalations).toEqual([expect.objectContaining({ subtaskId: 's1', decision: 'replan', subtasks: ['s1.1', 's1.2'] })]);
  });
});

describe('an escalation decided with a take-over', () => {
  it('dispatches the subtask again for the strategic model, and the task succeeds', async () => {
    h.router.replies.escalate = JSON.stringify({ decision: 'takeover', reason: 'subtle numeric edge cases' });
    const run = await dispatched();
    await escalate(escalation(run, 's2'));

    const again = await workOf(run, 's2:2');
    expect(again).toMatchObject({ subtaskId: 's2', attempt: 2, role: 'strategic' });
    await deliver(subtaskResult(run, 's1'));
    await deliver(subtaskResult(run, 's2', 2));
    expect((await codeResult(run)).ok).toBe(true);
  });
});

describe('an escalation decided with abandon', () => {
  it('fails the code activity at once with the strategic reason, without waiting for the other subtasks', async () => {
    h.router.replies.escalate = JSON.stringify({ decision: 'abandon', reason: 'the goal contradicts the existing API' });
    const run = await dispatched();
    await escalate(escalation(run, 's1'));

    // s2 is still with an executor: the result does not wait for it.
    const result = await codeResult(run);
    expect(result.ok).toBe(false);
    expect(result.error?.code).toBe('TASK_ABANDONED');
    expect(result.error?.message).toContain('the goal contradicts the existing API');
    const task = await h.client.call.getTask({ tenant: '', taskId: run.taskId });
    expect(task.subtasks.map((s) => [s.id, s.status])).toEqual([['s1', 'failed'], ['s2', 'running']]);
    expect(task.subtasks[0]?.failureReason).toContain('abandoned by Orion');
    expect(h.subtaskWork.items.filter((w) => w.taskId === run.taskId)).toHaveLength(2);
  });

  it('fails the task with the strategic reason once its run fails on the code result', async () => {
    h.router.replies.escalate = JSON.stringify({ decision: 'abandon', reason: 'the goal contradicts the existing API' });
    const run = await dispatched();
    await escalate(escalation(run, 's1'));
    const result = await codeResult(run);
    expect(result.error?.code).toBe('TASK_ABANDONED');

    // The workflow-engine stand-in runs no definition: do its part. The coding workflow's `code`
    // state fails the run on `activity.failed` (storeError), and the engine's run.finished
    // carries that error, so it relays the code result's error as the engine would.
    await h.bus.publish(Subjects.runFinished, {
      runId: run.runId, definitionName: 'coding', status: 'failed', state: 'failed', input: { taskId: run.taskId },
      error: result.error, at: new Date().toISOString(),
    });
    await h.settled(Streams.events.name, Consumers.orchestratorRunEvents);

    const task = await h.client.call.getTask({ tenant: '', taskId: run.taskId });
    expect(task.status).toBe('failed');
    expect(task.failureReason).toBe('TASK_ABANDONED: Orion abandoned the task after subtask s1 (title s1) escalated: the goal contradicts the existing API');
    expect(task.escalations.map((e) => [e.subtaskId, e.attempt, e.decision, e.decisionReason])).toEqual([
      ['s1', 1, 'abandon', 'the goal contradicts the existing API'],
    ]);
  });
});

describe('exactly once', () => {
  it('decides an escalation delivered twice (even at once) one time, and dispatches once', async () => {
    h.router.replies.escalate = HINT;
    const run = await dispatched();
    const e = escalation(run, 's1');
    await Promise.all([escalate(e), escalate(e, 'twin')]);
    await workOf(run, 's1:2');
    await settle();
    // A late copy, after it was decided.
    await escalate(e, `late-${randomBytes(2).toString('hex')}`);
    await settle();

    expect(escalateCalls(run)).toHaveLength(1);
    const dispatches = h.published.filter((p) => p.subject === Subjects.subtaskWork && p.msgId === `${run.taskId}:s1:2`);
    expect(dispatches).toHaveLength(1);
    const rows = await sql<{ n: string }>`select count(*) as n from orchestrator.escalations where task_id = ${run.taskId}`.execute(h.db);
    expect(Number(rows.rows[0]?.n)).toBe(1);
    const task = await h.client.call.getTask({ tenant: '', taskId: run.taskId });
    expect(task.subtasks.find((s) => s.id === 's1')?.status).toBe('running');
    // Every delivery records what is missing in the run's history; the engine keeps each note once.
    expect(new Set(h.workflow.notes.filter((n) => n.runId === run.runId).map((n) => n.noteId))).toEqual(new Set([`${e.escalationId}:raised`, `${e.escalationId}:decided`]));
  });

  it('retries after a router blip at once, not waiting for the claim of the failed try', async () => {
    let blips = 1;
    h.router.replies.escalate = () => {
      if (blips-- > 0) throw new OperationalError('UNAVAILABLE', 'router restarting');
      return HINT;
    };
    const run = await dispatched();
    await escalate(escalation(run, 's1'));
    await workOf(run, 's1:2');
    expect(escalateCalls(run)).toHaveLength(2);
  });

  it('ignores an escalation of a stale attempt without asking the model', async () => {
    h.router.replies.escalate = HINT;
    const run = await dispatched();
    await escalate(escalation(run, 's1', 7));
    await settle();
    expect(escalateCalls(run)).toHaveLength(0);
    const task = await h.client.call.getTask({ tenant: '', taskId: run.taskId });
    expect(task.escalations).toEqual([]);
  });
});

describe('the limits', () => {
  it('fails the subtask as before, saying the limit was reached, once the subtask escalated twice', async () => {
    h.router.replies.escalate = HINT;
    const run = await dispatched();
    await escalate(escalation(run, 's1', 1));
    await workOf(run, 's1:2');
    await escalate(escalation(run, 's1', 2));
    await workOf(run, 's1:3');
    await escalate(escalation(run, 's1', 3));
    await settle();
    expect(escalateCalls(run)).toHaveLength(2);

    await deliver(subtaskResult(run, 's2'));
    const result = await codeResult(run);
    expect(result.ok).toBe(false);
    expect(result.error?.code).toBe('SUBTASKS_FAILED');
    expect(result.error?.message).toContain('stuck: declared done 2 times with the same failing test output');
    expect(result.error?.message).toContain('escalation limit reached: subtask s1 was escalated 2 times already (at most 2 per subtask)');
    const task = await h.client.call.getTask({ tenant: '', taskId: run.taskId });
    expect(task.escalations.map((e) => [e.attempt, e.decision])).toEqual([[1, 'hint'], [2, 'hint'], [3, 'fail']]);
  });

  it('fails a subtask without asking once the task\'s subtasks escalated 6 times, though it never escalated itself', async () => {
    h.router.replies.escalate = HINT;
    const run = await dispatched(planOf(['s1', 's2', 's3', 's4']));
    // Two escalations each (the most per subtask) for s1, s2 and s3: six, the most per task.
    for (const id of ['s1', 's2', 's3']) {
      await escalate(escalation(run, id, 1));
      await workOf(run, `${id}:2`);
      await escalate(escalation(run, id, 2));
      await workOf(run, `${id}:3`);
    }
    await escalate(escalation(run, 's4', 1));
    await settle();

    // s4's first escalation is not put to the model, and s4 is not run again.
    expect(escalateCalls(run)).toHaveLength(6);
    expect(escalateCalls(run).filter((c) => c.subtaskId === 's4')).toEqual([]);
    expect(h.subtaskWork.items.filter((w) => w.workId === `${run.taskId}:s4:2`)).toEqual([]);

    for (const id of ['s1', 's2', 's3']) await deliver(subtaskResult(run, id, 3));
    const result = await codeResult(run);
    expect(result.ok).toBe(false);
    expect(result.error?.code).toBe('SUBTASKS_FAILED');
    expect(result.error?.message).toContain('1 of 4 subtasks failed: s4 (title s4)');
    expect(result.error?.message).toContain("escalation limit reached: the task's subtasks were escalated 6 times already (at most 6 per task)");
    const task = await h.client.call.getTask({ tenant: '', taskId: run.taskId });
    expect(task.subtasks.map((s) => [s.id, s.status])).toEqual([['s1', 'succeeded'], ['s2', 'succeeded'], ['s3', 'succeeded'], ['s4', 'failed']]);
    expect(task.escalations.map((e) => [e.subtaskId, e.attempt, e.decision])).toEqual([
      ['s1', 1, 'hint'], ['s1', 2, 'hint'], ['s2', 1, 'hint'], ['s2', 2, 'hint'], ['s3', 1, 'hint'], ['s3', 2, 'hint'], ['s4', 1, 'fail'],
    ]);
  });
});

describe('decision replies that do not parse', () => {
  it('are asked again with the parse error, and the decision applies', async () => {
    h.router.replies.escalate = ['I would give the agent a hint.', HINT];
    const run = await dispatched();
    await escalate(escalation(run, 's1'));
    await workOf(run, 's1:2');

    const calls = escalateCalls(run);
    expect(calls).toHaveLength(2);
    const reAsk = calls[1]?.messages ?? [];
    expect(reAsk.at(-2)).toMatchObject({ role: 'assistant', content: 'I would give the agent a hint.' });
    expect(reAsk.at(-1)?.content).toContain('Your reply could not be used: the escalation reply is not JSON');
  });

  it('fail the subtask when no reply parses, and when the router refuses (the task budget is spent)', async () => {
    h.router.replies.escalate = JSON.stringify({ decision: 'retry', reason: 'why not' });
    const run = await dispatched();
    await escalate(escalation(run, 's1'));
    await settle();
    h.router.failures.escalate = new UserError('BUDGET_EXHAUSTED', 'task budget of 10 USD spent', { reason: 'precondition' });
    try {
      await escalate(escalation(run, 's2'));
      await settle();
    } finally {
      delete h.router.failures.escalate;
    }
    const result = await codeResult(run);
    expect(result.ok).toBe(false);
    expect(result.error?.message).toContain('the strategic model gave no usable decision (ESCALATION_REPLY_INVALID)');
    expect(result.error?.message).toContain('the strategic model gave no usable decision (BUDGET_EXHAUSTED): task budget of 10 USD spent');
    expect(escalateCalls(run).filter((c) => c.subtaskId === 's1')).toHaveLength(3);
  });
});

describe('plan and review replies that do not parse', () => {
  it('re-asks the plan with the parse error, and the plan succeeds', async () => {
    const run = { taskId: '', runId: '' };
    h.router.replies.plan = ['Here is my plan: add divide.', JSON.stringify(PLAN)];
    try {
      const task = await h.client.call.submitTask(SubmitTaskRequest.fromPartial({ goal: 'Re-ask the plan', repoPath: repo.dir }));
      Object.assign(run, { taskId: task.id, runId: task.runId });
      const plan = request(run, 'plan');
      await h.bus.publish(Subjects.activityRequest('orchestrator', 'plan'), plan, { msgId: plan.workId });
      const items = await h.results.waitFor((rs) => rs.some((r) => r.workId === plan.workId), 'the plan result');
      expect(items.find((r) => r.workId === plan.workId)).toMatchObject({ ok: true, output: { subtasks: [expect.objectContaining({ id: 's1' }), expect.objectContaining({ id: 's2' })] } });
    } finally {
      h.router.replies.plan = JSON.stringify(PLAN);
    }
    const calls = h.router.calls.filter((c) => c.intent === 'plan' && c.taskId === run.taskId);
    expect(calls).toHaveLength(2);
    expect(calls[1]?.messages.at(-1)?.content).toContain('Your reply could not be used: the plan reply is not JSON');
    expect(calls[1]?.messages.at(-1)?.content).toContain('"subtasks"');
  });

  it('re-asks the review, and fails it only after the last re-ask', async () => {
    const run = await dispatched();
    await deliver(subtaskResult(run, 's1'));
    await deliver(subtaskResult(run, 's2'));
    await codeResult(run);
    h.router.replies.review = ['{"approved": "yes"}', JSON.stringify({ approved: true, summary: 'divide() is there' })];
    const review = request(run, 'review');
    await h.bus.publish(Subjects.activityRequest('orchestrator', 'review'), review, { msgId: review.workId });
    const items = await h.results.waitFor((rs) => rs.some((r) => r.workId === review.workId), 'the review result');
    expect(items.find((r) => r.workId === review.workId)).toMatchObject({ ok: true, output: { approved: true, summary: 'divide() is there' } });
    expect(h.router.calls.filter((c) => c.intent === 'review' && c.taskId === run.taskId)).toHaveLength(2);
  });
});
