/**
 * Reflex learning through Orion, on the real NATS and PostgreSQL with stand-in router and memory:
 * a subtask escalated, hinted, and then verified (merged, tests passing) teaches memory one
 * reflex with its provenance, worded by the strategic model (`reflect`) and attributed as a
 * script's; a redelivered result teaches nothing more; a success without an escalation, or one
 * whose tests did not pass, teaches nothing; a memory outage is retried until memory is back;
 * a refusal drops the reflex; a reply that never parses, or the `rule` proposer, words it by rule;
 * the topic is always the failure's, whatever topic the model's reply names; a learning Orion
 * left mid-way is resumed with its stored proposal, at start and on the clock once its claim ran out.
 * A success the agent reached on its own retry (`recoveredFrom`, never escalated) teaches one
 * lesson by rule at confidence 0.4, without a model call; an escalated one only the escalation's.
 * "Nothing learned" is asserted after the learner is idle, so slow learning cannot pass for none.
 */
import {
  Consumers,
  MemoryServiceClient,
  RouterServiceClient,
  Streams,
  Subjects,
  SubmitTaskRequest,
  type ActivityRequest,
  type Escalation,
  type SubtaskResult,
} from '@maestro/contracts';
import { sql } from '@maestro/db';
import { createGrpcClient, createGrpcServer, createSilentLogger, invalidField, ManualClock, OperationalError } from '@maestro/runtime';
import { ReflexLearner } from '../src/app/learn-reflex.js';
import type { ReflexMark } from '../src/domain/reflex-learning.js';
import type { Orchestrator } from '../src/orchestrator.js';
import { PostgresTaskStore } from '../src/store/postgres-task-store.js';
import { createGitRepo, eventually, FakeMemory, FakeRouter, startHarness, type Harness } from './harness.js';
import { FAILING_TAP } from './reflex-records.js';

type Run = { taskId: string; runId: string };

const PLAN = { subtasks: [{ id: 's1', title: 'Create src/divide.js', instructions: 'Export divide(a, b).', files: ['src/divide.js', 'test/divide.test.js'] }] };
const HINT = JSON.stringify({ decision: 'hint', reason: 'divide(1, 0) returns Infinity', hint: 'Throw a RangeError before dividing when b is 0.' });
// The reply still names a topic (older prompts asked for one), and a wrong one: it is ignored.
const LESSON = { lesson: 'In this repository divide() must throw a RangeError when b is 0; the zero test asserts it.', topic: 'Division semantics' };
/** The failure's signature: the topic of every lesson on it. */
const TOPIC = 'failing tests: divide refuses to divide by zero';

let repo: { dir: string; remove(): Promise<void> };

beforeAll(async () => {
  repo = await createGitRepo({ Makefile: 'test:\n\tnode --test\n', 'src/index.js': '' });
});

afterAll(async () => {
  await repo?.remove();
});

function request(run: Run, activity: string, attempt = 1): ActivityRequest {
  return {
    workId: `${run.runId}:${activity}:${attempt}`, runId: run.runId, state: activity, activity, attempt,
    context: { input: { taskId: run.taskId } }, requestedAt: new Date().toISOString(),
  };
}

function escalation(run: Run, attempt = 1): Escalation {
  const workId = `${run.taskId}:s1:${attempt}`;
  return {
    escalationId: workId, taskId: run.taskId, runId: run.runId, subtaskId: 's1', attempt, executorId: 'executor-1', raisedAt: new Date().toISOString(),
    packet: {
      reason: 'tests_failed',
      subtask: { title: 'Create src/divide.js', instructions: 'Export divide(a, b).', files: ['src/divide.js', 'test/divide.test.js'] },
      attempts: [{ step: 3, summary: 'make test: failed (exit 2)', ok: false }],
      steps: 4, lastDiff: '+export const divide = (a, b) => a / b;', failingTestOutput: FAILING_TAP,
      agentAccount: 'The implementation is correct; the test must be wrong.', filesChanged: ['src/divide.js'], tokensSpent: { input: 100, output: 10 },
    },
    result: {
      workId, taskId: run.taskId, runId: run.runId, subtaskId: 's1', attempt, ok: false, summary: 'done?', filesChanged: ['src/divide.js'],
      failureReason: 'tests_failed: the tests stayed red', executorId: 'executor-1', steps: 4, finishedAt: new Date().toISOString(),
      tests: { command: ['make', 'test'], exitCode: 2, passed: false, outputTail: FAILING_TAP },
    },
  };
}

function success(run: Run, attempt: number, overrides: Partial<SubtaskResult> = {}): SubtaskResult {
  return {
    workId: `${run.taskId}:s1:${attempt}`, taskId: run.taskId, runId: run.runId, subtaskId: 's1', attempt, ok: true, summary: 'divide() throws on 0',
    filesChanged: ['src/divide.js', 'test/divide.test.js'], commitSha: `c${attempt}`, executorId: 'executor-1', steps: 3, finishedAt: new Date().toISOString(),
    tests: { command: ['make', 'test'], exitCode: 0, passed: true, outputTail: '# pass 2\n# fail 0' },
    merged: { branch: `maestro/${run.taskId}`, sha: `merged-${attempt}` },
    ...overrides,
  };
}

/** A harness with one subtask planned and dispatched per task. */
function scenario(h: () => Harness) {
  const submitAndDispatch = async (): Promise<Run> => {
    const task = await h().client.call.submitTask(SubmitTaskRequest.fromPartial({ goal: 'Add divide()', repoPath: repo.dir }));
    const run = { taskId: task.id, runId: task.runId };
    for (const activity of ['plan', 'code']) {
      const r = request(run, activity);
      await h().bus.publish(Subjects.activityRequest('orchestrator', activity), r, { msgId: r.workId });
      if (activity === 'plan') await h().results.waitFor((rs) => rs.some((x) => x.workId === r.workId), 'the plan result');
    }
    await h().subtaskWork.waitFor((ws) => ws.some((w) => w.workId === `${run.taskId}:s1:1`), 's1 dispatched');
    return run;
  };
  /** Escalates attempt 1, waits for the hinted attempt 2, and delivers its result. */
  const escalatedThenFixed = async (fixed: Partial<SubtaskResult> = {}): Promise<Run> => {
    const run = await submitAndDispatch();
    const e = escalation(run);
    await h().bus.publish(Subjects.escalation(run.taskId), e, { msgId: e.escalationId });
    await h().subtaskWork.waitFor((ws) => ws.some((w) => w.workId === `${run.taskId}:s1:2`), 's1 dispatched again with the hint');
    const result = success(run, 2, fixed);
    await h().bus.publish(Subjects.subtaskResult, result, { msgId: result.workId });
    return run;
  };
  const learnsOf = (run: Run) => h().memory.learns.filter((l) => l.provenance?.taskId === run.taskId);
  const markOf = async (run: Run): Promise<ReflexMark | undefined> => {
    const rows = await sql<{ decision: { reflex?: ReflexMark } | null }>`
      select decision from orchestrator.escalations where escalation_id = ${`${run.taskId}:s1:1`}`.execute(h().db);
    return rows.rows[0]?.decision?.reflex;
  };
  /** Every result and escalation handled, and every learning they started settled. */
  const settle = async (): Promise<void> => {
    await h().settled(Streams.results.name, Consumers.orchestratorSubtaskResults);
    await h().settled(Streams.escalations.name, Consumers.orchestratorEscalations);
    await h().orchestrator.reflexes.idle();
  };
  /**
   * A learning Orion left mid-way: memory failed the first try (the proposal is stored and the
   * claim released), then `orion` stopped while waiting to retry. Memory is back afterwards.
   */
  const interrupted = async (orion: Orchestrator): Promise<Run> => {
    h().memory.learnFailWith = new OperationalError('MEMORY_DOWN', 'memory is restarting');
    const run = await escalatedThenFixed();
    await eventually(() => markOf(run), (m) => m?.lastError !== undefined && m.claimedUntil === null && m.proposal !== undefined, 'the first try failed');
    await orion.stop();
    h().memory.learnFailWith = undefined;
    expect(await markOf(run)).toMatchObject({ state: 'learning', claimedUntil: null, tries: 1 });
    return run;
  };
  return { submitAndDispatch, escalatedThenFixed, learnsOf, markOf, settle, interrupted };
}

describe('learning with the strategic proposer', () => {
  let h: Harness;
  const s = scenario(() => h);

  beforeAll(async () => {
    h = await startHarness({ reflexes: { retryDelaysMs: [100, 100, 100] } });
    h.router.replies.plan = JSON.stringify(PLAN);
    h.router.replies.escalate = HINT;
    h.router.replies.reflect = JSON.stringify(LESSON);
  });

  afterAll(async () => {
    await h?.close();
  });

  beforeEach(() => {
    h.memory.learnFailWith = undefined;
    h.router.replies.reflect = JSON.stringify(LESSON);
  });

  it('learns one reflex from a hinted, verified fix, with its provenance, attributed to the script that worded it', async () => {
    const run = await s.escalatedThenFixed();
    const [learn] = await eventually(() => s.learnsOf(run), (ls) => ls.length === 1, 'the reflex learned');
    expect(learn).toMatchObject({
      project: 'calc',
      content: LESSON.lesson,
      topic: TOPIC,
      author: 'scripted:fixed-replies',
      provenance: {
        taskId: run.taskId,
        subtaskId: 's1',
        commitSha: 'merged-2',
        failingTests: ['divide refuses to divide by zero'],
        failureKind: 'tests_failed',
        fix: 'hint: Throw a RangeError before dividing when b is 0.',
        files: ['src/divide.js', 'test/divide.test.js'],
      },
    });
    expect(learn?.provenance?.testEvidence).toContain('make test: passed (exit 0) at merged-2 (attempt 2)');
    expect(learn?.provenance?.testEvidence).toContain('not ok 2 - divide refuses to divide by zero');
    const reflect = h.router.calls.filter((c) => c.intent === 'reflect' && c.taskId === run.taskId);
    expect(reflect).toHaveLength(1);
    expect(reflect[0]).toMatchObject({ role: 'strategic', subtaskId: 's1', attempt: 2, runId: run.runId });
    expect(reflect[0]?.messages.map((m) => m.content).join('\n')).toContain('## What fixed it\nhint: Throw a RangeError before dividing when b is 0.');
    expect(await eventually(() => s.markOf(run), (m) => m?.state === 'learned', 'the learned mark')).toMatchObject({
      state: 'learned', subtaskId: 's1', attempt: 2, memoryId: 'reflex-1', outcome: 'created', claimedUntil: null, tries: 1,
      proposal: { lesson: LESSON.lesson, topic: TOPIC, author: 'scripted:fixed-replies' },
    });

    // A redelivered result (another copy on the stream) learns nothing more.
    const again = success(run, 2);
    await h.bus.publish(Subjects.subtaskResult, again, { msgId: `${again.workId}#again` });
    await s.settle();
    expect(s.learnsOf(run)).toHaveLength(1);
    expect(h.router.calls.filter((c) => c.intent === 'reflect' && c.taskId === run.taskId)).toHaveLength(1);
  });

  it('learns nothing from a success without an escalation, nor from a fix whose tests did not pass', async () => {
    const plain = await s.submitAndDispatch();
    const first = success(plain, 1);
    await h.bus.publish(Subjects.subtaskResult, first, { msgId: first.workId });
    const red = await s.escalatedThenFixed({ tests: { command: ['make', 'test'], exitCode: 2, passed: false, outputTail: 'not ok 1' } });
    await s.settle();
    expect([...s.learnsOf(plain), ...s.learnsOf(red)]).toEqual([]);
    expect(await s.markOf(red)).toBeUndefined();
  });

  it('retries while memory is down, sending the same lesson, and learns it once memory is back', async () => {
    h.memory.learnFailWith = new OperationalError('MEMORY_DOWN', 'memory is restarting');
    const run = await s.escalatedThenFixed();
    await eventually(() => s.learnsOf(run), (ls) => ls.length >= 2, 'two failed tries');
    expect((await s.markOf(run))?.lastError).toContain('memory is restarting');
    h.memory.learnFailWith = undefined;
    await eventually(() => s.markOf(run), (m) => m?.state === 'learned', 'the reflex learned after the outage');
    const learns = s.learnsOf(run);
    expect(new Set(learns.map((l) => l.content))).toEqual(new Set([LESSON.lesson]));
    // The model was asked once: the stored proposal is what every retry sent.
    expect(h.router.calls.filter((c) => c.intent === 'reflect' && c.taskId === run.taskId)).toHaveLength(1);
  });

  it('drops the reflex after the last retry when memory stays down, and tries no more', async () => {
    h.memory.learnFailWith = new OperationalError('MEMORY_DOWN', 'memory is gone');
    const run = await s.escalatedThenFixed();
    const dropped = await eventually(() => s.markOf(run), (m) => m?.state === 'dropped', 'the reflex dropped');
    expect(dropped?.lastError).toContain('gave up after 4 tries');
    expect(s.learnsOf(run)).toHaveLength(4);
    expect(h.logs.some((l) => l.level === 'warn' && l.message === 'reflex dropped: learning kept failing' && l.fields.taskId === run.taskId)).toBe(true);
  });

  it('drops a reflex memory refuses, at once', async () => {
    h.memory.learnFailWith = invalidField('content', 'must be at most 20000 characters');
    const run = await s.escalatedThenFixed();
    const dropped = await eventually(() => s.markOf(run), (m) => m?.state === 'dropped', 'the reflex dropped');
    expect(dropped?.lastError).toContain('content: must be at most 20000 characters');
    expect(s.learnsOf(run)).toHaveLength(1);
  });

  it('words the reflex by rule when the strategic reply never parses', async () => {
    h.router.replies.reflect = 'I learned that dividing by zero is bad.';
    const run = await s.escalatedThenFixed();
    const [learn] = await eventually(() => s.learnsOf(run), (ls) => ls.length === 1, 'the reflex learned');
    expect(learn).toMatchObject({ author: 'rule', topic: TOPIC });
    expect(learn?.content).toContain('what made them pass: Throw a RangeError before dividing when b is 0.');
    // Asked, then re-asked twice with the parse error.
    expect(h.router.calls.filter((c) => c.intent === 'reflect' && c.taskId === run.taskId)).toHaveLength(3);
  });
});

describe("learning from the agent's own retry", () => {
  let h: Harness;
  const s = scenario(() => h);
  /** The first failed run of attempt 1, which the agent fixed itself before its tests passed. */
  const recoveredFrom = { failingTests: ['divide refuses to divide by zero'], outputTail: FAILING_TAP, exitCode: 2 };

  beforeAll(async () => {
    // The strategic proposer is configured: an own retry still never asks a model.
    h = await startHarness({ reflexes: { retryDelaysMs: [100] } });
    h.router.replies.plan = JSON.stringify(PLAN);
    h.router.replies.escalate = HINT;
    h.router.replies.reflect = JSON.stringify(LESSON);
  });

  afterAll(async () => {
    await h?.close();
  });

  it('learns it once, by rule, at confidence 0.4, under the failure signature, with its provenance', async () => {
    const run = await s.submitAndDispatch();
    const result = success(run, 1, { recoveredFrom });
    await h.bus.publish(Subjects.subtaskResult, result, { msgId: result.workId });
    await s.settle();
    const learns = s.learnsOf(run);
    expect(learns).toHaveLength(1);
    expect(learns[0]).toMatchObject({
      project: 'calc',
      topic: `own retry, ${TOPIC}`,
      author: 'rule',
      tags: ['reflex', 'tests_failed', 'own_retry'],
      provenance: {
        taskId: run.taskId,
        subtaskId: 's1',
        commitSha: 'merged-1',
        failingTests: ['divide refuses to divide by zero'],
        failureKind: 'tests_failed',
        fix: "the agent's own retry after the tests failed",
        files: ['src/divide.js', 'test/divide.test.js'],
      },
    });
    expect(learns[0]?.confidence).toBeCloseTo(0.4);
    expect(learns[0]?.content).toBe(
      'In src/divide.js, test/divide.test.js: when the tests failed ("divide refuses to divide by zero") with error: \'Missing expected exception (RangeError).\', ' +
        'the agent fixed it on its own retry, changing src/divide.js, test/divide.test.js (verified: `make test` passed).',
    );
    expect(learns[0]?.provenance?.testEvidence).toContain('make test: passed (exit 0) at merged-1 (attempt 1)');
    expect(learns[0]?.provenance?.testEvidence).toContain('not ok 2 - divide refuses to divide by zero');
    expect(h.router.calls.filter((c) => c.intent === 'reflect' && c.taskId === run.taskId)).toEqual([]);
  });

  it('learns nothing without recoveredFrom, nor when its failed run names neither a test nor an error', async () => {
    const plain = await s.submitAndDispatch();
    const first = success(plain, 1);
    await h.bus.publish(Subjects.subtaskResult, first, { msgId: first.workId });
    const silent = await s.submitAndDispatch();
    const quiet = success(silent, 1, { recoveredFrom: { failingTests: [], outputTail: 'make: *** [test] 2', exitCode: 2 } });
    await h.bus.publish(Subjects.subtaskResult, quiet, { msgId: quiet.workId });
    await s.settle();
    expect([...s.learnsOf(plain), ...s.learnsOf(silent)]).toEqual([]);
  });

  it('leaves a subtask that was escalated to the escalation: one lesson, the hint\'s', async () => {
    const run = await s.escalatedThenFixed({ recoveredFrom });
    await eventually(() => s.markOf(run), (m) => m?.state === 'learned', 'the escalation lesson learned');
    await s.settle();
    const learns = s.learnsOf(run);
    expect(learns).toHaveLength(1);
    expect(learns[0]).toMatchObject({ topic: TOPIC, provenance: { fix: 'hint: Throw a RangeError before dividing when b is 0.' } });
  });
});

describe('learning with the rule proposer', () => {
  let h: Harness;
  const s = scenario(() => h);

  beforeAll(async () => {
    h = await startHarness({ reflexes: { proposer: 'rule' } });
    h.router.replies.plan = JSON.stringify(PLAN);
    h.router.replies.escalate = HINT;
  });

  afterAll(async () => {
    await h?.close();
  });

  it('never asks the model, and attributes the lesson to the rule', async () => {
    const run = await s.escalatedThenFixed();
    const [learn] = await eventually(() => s.learnsOf(run), (ls) => ls.length === 1, 'the reflex learned');
    expect(learn).toMatchObject({ author: 'rule', topic: TOPIC, provenance: { commitSha: 'merged-2' } });
    expect(learn?.content).toMatch(/^In src\/divide\.js, test\/divide\.test\.js: when the tests failed \("divide refuses to divide by zero"\)/);
    expect(h.router.calls.filter((c) => c.intent === 'reflect')).toEqual([]);
  });
});

describe('resuming a learning Orion left mid-way, at start', () => {
  let h: Harness;
  const s = scenario(() => h);

  beforeAll(async () => {
    // Retries far apart: the learner is waiting to retry when Orion stops.
    h = await startHarness({ reflexes: { retryDelaysMs: [600_000] } });
    h.router.replies.plan = JSON.stringify(PLAN);
    h.router.replies.escalate = HINT;
    h.router.replies.reflect = JSON.stringify(LESSON);
  });

  afterAll(async () => {
    await h?.close();
  });

  it('learns it on the next start, sending the stored proposal without asking the model again', async () => {
    const run = await s.interrupted(h.orchestrator);
    await h.startReplica();
    const mark = await eventually(() => s.markOf(run), (m) => m?.state === 'learned', 'the reflex learned by the restarted Orion');
    expect(mark).toMatchObject({ claimedUntil: null, tries: 2, memoryId: 'reflex-2' });
    expect(s.learnsOf(run).map((l) => [l.content, l.topic])).toEqual([
      [LESSON.lesson, TOPIC],
      [LESSON.lesson, TOPIC],
    ]);
    expect(h.router.calls.filter((c) => c.intent === 'reflect' && c.taskId === run.taskId)).toHaveLength(1);
  });
});

describe('resuming a learning Orion left mid-way, on the clock', () => {
  let h: Harness;
  const s = scenario(() => h);
  // A learner of its own (a replica on a manual clock), with its own router and memory stand-ins.
  const peers = createGrpcServer({ address: '127.0.0.1:0', logger: createSilentLogger(), serviceNames: [] });
  const router = new FakeRouter();
  const memory = new FakeMemory();
  let clients: { router: ReturnType<typeof createGrpcClient<RouterServiceClient>>; memory: ReturnType<typeof createGrpcClient<MemoryServiceClient>> };

  beforeAll(async () => {
    h = await startHarness({ reflexes: { retryDelaysMs: [600_000] } });
    h.router.replies.plan = JSON.stringify(PLAN);
    h.router.replies.escalate = HINT;
    h.router.replies.reflect = JSON.stringify(LESSON);
    router.register(peers);
    memory.register(peers);
    const address = `127.0.0.1:${await peers.start()}`;
    clients = { router: createGrpcClient(RouterServiceClient, address), memory: createGrpcClient(MemoryServiceClient, address) };
  });

  afterAll(async () => {
    clients?.router.close();
    clients?.memory.close();
    await peers.shutdown();
    await h?.close();
  });

  it('leaves a claim that still runs alone, and learns it once the claim ran out, with the stored proposal', async () => {
    const run = await s.interrupted(h.orchestrator);
    // Orion died holding the claim: it runs for 30 s more.
    const clock = new ManualClock(Date.now());
    const claimedUntil = new Date(clock.now() + 30_000).toISOString();
    await sql`update orchestrator.escalations set decision = jsonb_set(decision, '{reflex,claimedUntil}', to_jsonb(${claimedUntil}::text))
      where escalation_id = ${`${run.taskId}:s1:1`}`.execute(h.db);

    const learner = new ReflexLearner(
      { store: new PostgresTaskStore(h.db), router: clients.router.call, memory: clients.memory.call, clock, options: { resumeEveryMs: 60_000 } },
      createSilentLogger(),
    );
    try {
      learner.start();
      // The first sweep ran (the loop sleeps on the clock) and left the running claim alone.
      await eventually(() => clock.pendingTimers, (n) => n === 1, 'the first sweep');
      await learner.idle();
      expect(memory.learns).toEqual([]);
      expect(await learner.resumeInterrupted()).toBe(0);

      clock.advance(60_000);
      await eventually(() => memory.learns.length, (n) => n === 1, 'the sweep after the claim ran out');
      await learner.idle();
      expect(memory.learns[0]).toMatchObject({ content: LESSON.lesson, topic: TOPIC, author: 'scripted:fixed-replies', provenance: { taskId: run.taskId } });
      expect(await s.markOf(run)).toMatchObject({ state: 'learned', claimedUntil: null, tries: 2, memoryId: 'reflex-1' });
      // The stored proposal was sent: no model was asked again.
      expect(router.calls).toEqual([]);
      expect(h.router.calls.filter((c) => c.intent === 'reflect' && c.taskId === run.taskId)).toHaveLength(1);
      // Learned: the next sweep finds nothing.
      expect(await learner.resumeInterrupted()).toBe(0);
    } finally {
      await learner.stop();
    }
  });
});
