/**
 * Reflexes learned from verified outcomes, the whole cluster as processes with scripted models
 * (`examples/scripts/reflex-learning-script.json`), three tasks in one repository:
 * 1. the escalation demo: divide() stays red until the agent is stuck, Orion's hint fixes it, the
 *    tests pass, and a reflex appears in memory with its provenance (task, subtask, the merged
 *    commit, the test evidence), worded by the strategic model's (scripted) `reflect` reply;
 * 2. a modulo helper: the executor recalls the reflex and its tactical prompt holds it — the
 *    script's coding rule for this task answers only a prompt that contains the lesson, so the
 *    task could not succeed without it — and the executor's `recall` step lists it;
 * 3. the same failure fixed under a contradicting convention: its verified lesson on the same
 *    topic supersedes the first (status superseded, superseded_by the new one, still listed
 *    with include_inactive, no longer recalled).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ListMemoriesRequest, MemoryServiceClient, RecallRequest, type Memory } from '@maestro/contracts';
import { createGrpcClient, type GrpcClient } from '@maestro/runtime';
import { getJson, postJson, repoRoot, startE2eCluster, waitForTaskEnd, type E2eCluster } from './harness.js';

jest.setTimeout(480_000);

const PROJECT = 'sample-calculator';
const TOPIC = 'failing tests: divide refuses to divide by zero';
/** What the script's `reflect` replies say (examples/scripts/reflex-learning-script.json). */
const LESSON_A_KEY = 'check b === 0 and throw the RangeError before dividing';
const LESSON_B_KEY = "divide() throws TypeError('division by zero') for a zero divisor";

const GOALS = {
  divide: 'Add a divide helper to the calculator, with tests: divide(a, b) returns a / b and throws a RangeError when b is 0.',
  modulo: 'Add a modulo helper to the calculator, with tests: modulo(a, b) returns a % b and refuses a zero divisor.',
  typeError: "Make the calculator's divide(a, b) throw a TypeError when b is 0 (the team's new convention), with tests.",
};

describe('reflexes learned from verified outcomes', () => {
  let e2e: E2eCluster;
  let memory: GrpcClient<InstanceType<typeof MemoryServiceClient>>;

  beforeAll(async () => {
    e2e = await startE2eCluster({ scriptPath: join(repoRoot, 'examples', 'scripts', 'reflex-learning-script.json'), executors: 1 });
    memory = createGrpcClient(MemoryServiceClient, e2e.cluster.addresses.get('memory')!);
  });

  afterAll(async () => {
    memory?.close();
    await e2e?.stop();
  });

  async function reflexes(includeInactive = false): Promise<Memory[]> {
    const { memories } = await memory.call.list(ListMemoriesRequest.fromPartial({ project: PROJECT, kind: 'reflex', includeInactive, limit: 50 }));
    return memories;
  }

  async function eventuallyReflexes(predicate: (ms: Memory[]) => boolean, what: string, includeInactive = false): Promise<Memory[]> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const ms = await reflexes(includeInactive);
      if (predicate(ms)) return ms;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; memory has ${JSON.stringify(ms, null, 2)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  async function runTask(goal: string): Promise<{ id: string; done: Record<string, unknown> }> {
    const task = await postJson(`${e2e.gateway}/v1/tasks`, { goal, repoPath: e2e.repo, project: PROJECT });
    const id = String(task['id']);
    return { id, done: await waitForTaskEnd(e2e.gateway, id, 180_000) };
  }

  it('learns from a verified fix, recalls the lesson into the next task, and supersedes it with a contradicting one', async () => {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: e2e.repo, encoding: 'utf8' }).trim();

    // 1. Fails, is hinted, fixed, tests pass: a reflex with its provenance.
    const first = await runTask(GOALS.divide);
    expect(first.done['status']).toBe('succeeded');
    expect(first.done['escalations']).toEqual([expect.objectContaining({ subtaskId: 's1', attempt: 1, decision: 'hint' })]);
    const [a] = await eventuallyReflexes((ms) => ms.length === 1, 'the first reflex');
    expect(a).toMatchObject({ kind: 'reflex', status: 'active', topic: TOPIC, author: 'scripted:scripted', confirmations: 1 });
    expect(a?.content).toContain(LESSON_A_KEY);
    expect(a?.provenance).toMatchObject({
      taskId: first.id,
      subtaskId: 's1',
      // The task branch's commit with the fix merged (the task's only subtask, so its tip).
      commitSha: git('rev-parse', `maestro/${first.id}`),
      failureKind: 'tests_failed',
      failingTests: ['divide refuses to divide by zero'],
      fix: expect.stringMatching(/^hint: Keep test\/divide\.test\.js as it is\./),
      files: expect.arrayContaining(['src/divide.js']),
    });
    expect(a?.provenance?.testEvidence).toMatch(/^npm test: passed \(exit 0\) at [0-9a-f]{40} \(attempt 2\)\nbefore: tests_failed on attempt 1/);

    // 2. The next task in the repository recalls it: the script answers its coding prompt only
    // when the prompt holds the lesson, so success proves the executor put it there.
    const second = await runTask(GOALS.modulo);
    expect(second.done['status']).toBe('succeeded');
    expect(second.done['escalations'] ?? []).toEqual([]);
    expect(git('show', `maestro/${second.id}:src/modulo.js`)).toContain('if (b === 0) throw new RangeError');
    const steps = (await getJson(`${e2e.gateway}/v1/tasks/${second.id}/steps`))['steps'] as Array<Record<string, unknown>>;
    const recalls = steps.filter((s) => s['kind'] === 'recall' && s['subtaskId'] === 's1');
    expect(recalls.length).toBeGreaterThan(0);
    const recalled = recalls.flatMap((s) => (s['recalled'] as Array<Record<string, unknown>> | undefined) ?? []);
    expect(recalled).toEqual(expect.arrayContaining([expect.objectContaining({ id: a?.id, kind: 'reflex', content: expect.stringContaining(LESSON_A_KEY) })]));
    // Orion recalled for its plan too, and said so.
    expect(steps.filter((s) => s['kind'] === 'recall' && s['subtaskId'] === 'plan' && s['executorId'] === 'orion')).toHaveLength(1);
    // Task 2 had no escalation: nothing new was learned from it.
    expect(await reflexes()).toHaveLength(1);

    // 3. The same failure, fixed under a contradicting convention: the new lesson supersedes.
    const third = await runTask(GOALS.typeError);
    expect(third.done['status']).toBe('succeeded');
    expect(third.done['escalations']).toEqual([expect.objectContaining({ subtaskId: 's1', attempt: 1, decision: 'hint' })]);
    const history = await eventuallyReflexes((ms) => ms.some((m) => m.id === a?.id && m.status === 'superseded'), 'the first reflex superseded', true);
    const b = history.find((m) => m.id !== a?.id);
    expect(b).toMatchObject({ status: 'active', topic: TOPIC, provenance: expect.objectContaining({ taskId: third.id, subtaskId: 's1' }) });
    expect(b?.content).toContain(LESSON_B_KEY);
    expect(history.find((m) => m.id === a?.id)).toMatchObject({ status: 'superseded', supersededBy: b?.id });
    expect((await reflexes()).map((m) => m.id)).toEqual([b?.id]);

    // No longer recalled; the new one is.
    const { memories } = await memory.call.recall(
      RecallRequest.fromPartial({ project: PROJECT, query: 'Create src/divide.js — refuse a zero divisor: divide refuses to divide by zero', limit: 20 }),
    );
    const ids = memories.map((m) => m.memory?.id);
    expect(ids).not.toContain(a?.id);
    expect(ids).toContain(b?.id);
  });
});
