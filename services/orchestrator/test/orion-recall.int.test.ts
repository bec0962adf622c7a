/**
 * Orion's recall for its own prompts, on the real NATS and PostgreSQL with stand-in router and
 * memory: plan and review each recall, put in the prompt only the notes that fit the memory
 * budget, and record a `recall` step listing exactly those (id, kind, score, why, content as
 * sent); a memory outage costs the notes and is recorded, never the plan or the review. A task's
 * memory scopes go with every recall and every dispatch, so a user's preference reaches the plan
 * of a task submitted for that user only.
 */
import { Subjects, SubmitTaskRequest, type ActivityRequest, type CompleteRequest } from '@maestro/contracts';
import { OperationalError } from '@maestro/runtime';
import { createGitRepo, startHarness, type Harness } from './harness.js';

let h: Harness;
let repo: { dir: string; remove(): Promise<void> };

const PLAN = { subtasks: [{ id: 's1', title: 'Create src/divide.js', instructions: 'Export divide(a, b).', files: ['src/divide.js'] }] };
const LONG = `Divide by zero convention: ${Array.from({ length: 300 }, (_, i) => `rule${i}`).join(' ')}`;
const NOTES = [
  { kind: 'preference', content: 'Use named exports only', why: 'pinned' },
  { kind: 'reflex', content: LONG, why: 'keyword rank 1; vector rank 2' },
  { kind: 'project', content: 'Never touch generated code' },
];

beforeAll(async () => {
  // Room for the first note whole and a cut of the second; the third never fits.
  h = await startHarness({ activityOptions: { memoryTokens: 60 } });
  h.router.replies.plan = JSON.stringify(PLAN);
  h.router.replies.review = JSON.stringify({ approved: true, summary: 'divide() is there' });
  repo = await createGitRepo({ Makefile: 'test:\n\tnode --test\n', 'src/index.js': '' });
});

afterAll(async () => {
  await h?.close();
  await repo?.remove();
});

type Run = { taskId: string; runId: string };

function request(run: Run, activity: string): ActivityRequest {
  return {
    workId: `${run.runId}:${activity}:1`, runId: run.runId, state: activity, activity, attempt: 1,
    context: { input: { taskId: run.taskId } }, requestedAt: new Date().toISOString(),
  };
}

async function runActivity(run: Run, activity: string): Promise<void> {
  const r = request(run, activity);
  await h.bus.publish(Subjects.activityRequest('orchestrator', activity), r, { msgId: r.workId });
  const [result] = (await h.results.waitFor((rs) => rs.some((x) => x.workId === r.workId), `the ${activity} result`)).filter((x) => x.workId === r.workId);
  expect(result?.ok).toBe(true);
}

/** Plans, dispatches and finishes the one subtask; resolves once the code result is out. */
async function planned(goal: string, memoryScopes: string[] = []): Promise<Run> {
  const task = await h.client.call.submitTask(SubmitTaskRequest.fromPartial({ goal, repoPath: repo.dir, memoryScopes }));
  const run = { taskId: task.id, runId: task.runId };
  await runActivity(run, 'plan');
  const code = request(run, 'code');
  await h.bus.publish(Subjects.activityRequest('orchestrator', 'code'), code, { msgId: code.workId });
  await h.subtaskWork.waitFor((ws) => ws.some((w) => w.workId === `${run.taskId}:s1:1`), 's1 dispatched');
  await h.bus.publish(Subjects.subtaskResult, {
    workId: `${run.taskId}:s1:1`, taskId: run.taskId, runId: run.runId, subtaskId: 's1', attempt: 1, ok: true, summary: 'did it',
    filesChanged: ['src/divide.js'], commitSha: 'c1', executorId: 'e1', steps: 2, finishedAt: new Date().toISOString(),
    tests: { command: ['make', 'test'], exitCode: 0, passed: true, outputTail: 'ok' },
  });
  await h.results.waitFor((rs) => rs.some((x) => x.workId === code.workId), 'the code result');
  return run;
}

async function recallSteps(run: Run, subtaskId: string) {
  const { steps } = await h.client.call.listAgentSteps({ tenant: '', taskId: run.taskId, runId: '', subtaskId, limit: 0, after: '' });
  return steps.filter((s) => s.kind === 'recall');
}

function promptOf(call: CompleteRequest | undefined): string {
  return call?.messages.map((m) => m.content).join('\n') ?? '';
}

function lastCall(run: Run, intent: string): CompleteRequest | undefined {
  return h.router.calls.filter((c) => c.taskId === run.taskId && c.intent === intent).at(-1);
}

describe('recall for the plan and the review', () => {
  it('puts in each prompt only what fits the memory budget, and records exactly that on a recall step', async () => {
    h.memory.failWith = undefined;
    h.memory.notes = NOTES;
    const run = await planned('Add a divide helper');
    await runActivity(run, 'review');

    expect(h.memory.recalls.filter((r) => r.project === 'calc').map((r) => r.query)).toEqual(
      expect.arrayContaining(['Add a divide helper', 'Add a divide helper Create src/divide.js']),
    );
    for (const [purpose, intent] of [['plan', 'plan'], ['review', 'review']] as const) {
      const [step, ...more] = await recallSteps(run, purpose);
      expect(more).toEqual([]);
      expect(step).toMatchObject({ executorId: 'orion', kind: 'recall', ok: true, attempt: 1 });
      expect(step?.summary).toMatch(new RegExp(`^recalled 2 memories for the ${purpose} prompt \\(\\d+ of 60 tokens\\); 2 of 3 recalled did not fit whole$`));
      const recalled = step?.recalled ?? [];
      expect(recalled.map((m) => [m.id, m.kind, m.score, m.why])).toEqual([
        ['m0', 'preference', 1, 'pinned'],
        ['m1', 'reflex', 0.9, 'keyword rank 1; vector rank 2'],
      ]);
      expect(recalled[0]?.content).toBe('Use named exports only');
      const cut = recalled[1]?.content ?? '';
      expect(cut.endsWith(' …')).toBe(true);
      expect(LONG.startsWith(cut.slice(0, -2))).toBe(true);

      // The prompt holds exactly what the step lists.
      const prompt = promptOf(lastCall(run, intent));
      expect(prompt).toContain('- (preference) Use named exports only');
      expect(prompt).toContain(`- (reflex) ${cut}`);
      expect(prompt).not.toContain('rule299');
      expect(prompt).not.toContain('Never touch generated code');
    }
  });

  it('plans and reviews without notes when memory is down, and records the outage', async () => {
    h.memory.notes = NOTES;
    h.memory.failWith = new OperationalError('MEMORY_DOWN', 'memory is restarting');
    try {
      const run = await planned('Add a modulo helper');
      await runActivity(run, 'review');
      for (const [purpose, intent] of [['plan', 'plan'], ['review', 'review']] as const) {
        const [step] = await recallSteps(run, purpose);
        expect(step).toMatchObject({ kind: 'recall', ok: false, recalled: [] });
        expect(step?.summary).toBe(`memory recall failed (MEMORY_DOWN): the ${purpose} prompt has no memory notes`);
        expect(promptOf(lastCall(run, intent))).not.toContain('Notes from memory');
      }
    } finally {
      h.memory.failWith = undefined;
    }
  });
});

describe("recall with the task's memory scopes", () => {
  const ALICE = { kind: 'preference', content: 'Alice wants a JSDoc line on every export', why: 'pinned', scope: 'user:alice' };
  const BOB = { kind: 'preference', content: 'Bob wants no comments at all', why: 'pinned', scope: 'user:bob' };
  const PROJECT = { kind: 'project', content: 'Helpers live in src/' };

  function recallOf(query: string) {
    return h.memory.recalls.filter((r) => r.query === query);
  }

  it("plans with a user's preference only for a task submitted for that user, and dispatches the scopes", async () => {
    h.memory.failWith = undefined;
    h.memory.notes = [ALICE, BOB, PROJECT];
    const forAlice = await planned('Add a power helper', ['user:alice']);
    const forNobody = await planned('Add a root helper');

    // Each plan recall names the task's scopes, and only those.
    expect(recallOf('Add a power helper').map((r) => r.scopes)).toEqual([['user:alice']]);
    expect(recallOf('Add a root helper').map((r) => r.scopes)).toEqual([[]]);

    const alicePrompt = promptOf(lastCall(forAlice, 'plan'));
    expect(alicePrompt).toContain(`- (preference) ${ALICE.content}`);
    expect(alicePrompt).toContain(`- (project) ${PROJECT.content}`);
    expect(alicePrompt).not.toContain(BOB.content);
    const [aliceStep] = await recallSteps(forAlice, 'plan');
    expect(aliceStep?.recalled?.map((m) => m.content)).toEqual([ALICE.content, PROJECT.content]);

    const plainPrompt = promptOf(lastCall(forNobody, 'plan'));
    expect(plainPrompt).toContain(`- (project) ${PROJECT.content}`);
    expect(plainPrompt).not.toContain(ALICE.content);
    expect(plainPrompt).not.toContain(BOB.content);

    // The subtask's work carries the scopes, so its executor recalls Alice's preferences too.
    const work = (run: Run) => h.subtaskWork.items.find((w) => w.workId === `${run.taskId}:s1:1`);
    expect(work(forAlice)?.memoryScopes).toEqual(['user:alice']);
    expect(work(forNobody)).not.toHaveProperty('memoryScopes');
  });

  it("reviews with the task's scopes too", async () => {
    h.memory.notes = [ALICE, PROJECT];
    const run = await planned('Add a cube helper', ['user:alice', 'team:platform']);
    await runActivity(run, 'review');
    expect(recallOf('Add a cube helper Create src/divide.js').map((r) => r.scopes)).toEqual([['user:alice', 'team:platform']]);
    expect(promptOf(lastCall(run, 'review'))).toContain(`- (preference) ${ALICE.content}`);
  });
});
