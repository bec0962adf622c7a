/**
 * The run's history of agent steps: `maestro.events.work.step` events on the real NATS stream are
 * recorded in the real PostgreSQL database by Orion's durable consumer, once each however often
 * they arrive, and ListAgentSteps (real gRPC) returns them in the order they were stored, page by
 * page, so a follower misses no step however late it arrives or however early its time.
 */
import { randomUUID } from 'node:crypto';
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { Streams, Subjects, type AgentStep, type ListAgentStepsRequest, type WorkStepEvent } from '@maestro/contracts';
import { migrateToLatest, sql, type Kysely } from '@maestro/db';
import { createSilentLogger, UserError } from '@maestro/runtime';
import { orchestratorMigrations } from '../src/store/migrations.js';
import { PostgresAgentStepStore } from '../src/store/postgres-agent-step-store.js';
import { ORCHESTRATOR_SCHEMA } from '../src/store/schema.js';
import { toAgentStepMessage } from '../src/transport/grpc/agent-step-mapper.js';
import { WORK_STEPS_CONSUMER } from '../src/transport/nats/work-steps.subscriber.js';
import { countRows, createGitRepo, createScratchDatabase, startHarness, type Harness } from './harness.js';

let h: Harness;
let repo: { dir: string; remove(): Promise<void> };
let task: { taskId: string; runId: string };

beforeAll(async () => {
  h = await startHarness();
  repo = await createGitRepo({ Makefile: 'test:\n\tnode --test\n' });
  const submitted = await h.client.call.submitTask({ tenant: '', goal: 'Add steps', repoPath: repo.dir, testCommand: [], project: '', idempotencyKey: '', budget: undefined, workflow: '', memoryScopes: [] });
  task = { taskId: submitted.id, runId: submitted.runId };
});

afterAll(async () => {
  await h?.close();
  await repo?.remove();
});

const t0 = Date.parse('2030-01-02T03:04:05.000Z');

/** A step event of the test's task, `seconds` after t0. */
function stepEvent(subtaskId: string, executorId: string, step: number, seconds: number, overrides: Partial<WorkStepEvent> = {}): WorkStepEvent {
  return {
    taskId: task.taskId, runId: task.runId, subtaskId, executorId, step, kind: 'tool', tool: 'fs.write',
    summary: `${subtaskId} ${executorId} #${step}`, ok: true, at: new Date(t0 + seconds * 1000).toISOString(), ...overrides,
  };
}

async function publishSteps(events: unknown[]): Promise<void> {
  // Each publish is a separate stream message (no message id), so a repeated event is a real
  // second delivery, as when an executor's publish is retried or the stream is replayed.
  for (const event of events) await h.bus.publish(Subjects.workStep, event);
  await h.settled(Streams.events.name, WORK_STEPS_CONSUMER);
}

function listSteps(overrides: Partial<ListAgentStepsRequest>) {
  return h.client.call.listAgentSteps({ tenant: '', taskId: '', runId: '', subtaskId: '', limit: 0, after: '', ...overrides });
}

const brief = (s: AgentStep) => [s.subtaskId, s.executorId, s.step, s.at?.toISOString()];
/** Steps in a canonical order, for comparing what was stored regardless of storage order. */
const sorted = (rows: Array<Array<string | number | undefined>>) => [...rows].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

describe('recording work steps', () => {
  let expected: Array<Array<string | number>>;

  beforeAll(async () => {
    // Published out of order on purpose; the consumer records up to four at once, so the storage
    // order of these (which the listing follows) is not known in advance.
    const s1e1 = [1, 2, 3].map((n) => stepEvent('s1', 'exec-a', n, n));
    const [first, second, third] = s1e1 as [WorkStepEvent, WorkStepEvent, WorkStepEvent];
    const s2e2 = stepEvent('s2', 'exec-b', 1, 2.5, { kind: 'model', summary: 'planned the edit' });
    delete s2e2.tool;
    // s1 retried on another executor, which numbers its steps from 1 again; this executor sends
    // the work item's attempt, the others (older executors) don't.
    const s1e2 = stepEvent('s1', 'exec-b', 1, 10, { attempt: 2 });
    // s1 handed back and redelivered to exec-a itself: numbered from 1 again, later.
    const s1e1again = stepEvent('s1', 'exec-a', 1, 20, { kind: 'verdict', summary: 'done', ok: false });
    delete s1e1again.tool;
    expected = [first, second, s2e2, third, s1e2, s1e1again].map((e) => [e.subtaskId, e.executorId, e.step, e.at]);

    const unknownTask = { ...stepEvent('s1', 'exec-a', 1, 1), taskId: randomUUID() };
    const probe = { ...stepEvent('probe', 'exec-a', 1, 1), taskId: 'probe-42' };
    await publishSteps([
      s1e2, third, first, s2e2, second,
      // The duplicates: the same events again, later.
      second, unknownTask, probe, s1e1again, first,
    ]);
  });

  it('lists each step of the task once, in storage order, with what the executor reported', async () => {
    const page = await listSteps({ taskId: task.taskId });
    expect(sorted(page.steps.map(brief))).toEqual(sorted(expected));
    expect(page.nextAfter).toBe('');
    const storedOrder = await h.db
      .withSchema('orchestrator')
      .selectFrom('agent_steps')
      .select(['subtask_id', 'executor_id', 'step', 'at'])
      .where('task_id', '=', task.taskId)
      .orderBy('seq')
      .execute();
    expect(page.steps.map(brief)).toEqual(storedOrder.map((r) => [r.subtask_id, r.executor_id, r.step, r.at.toISOString()]));
    expect(page.steps.find((s) => s.subtaskId === 's2')).toEqual({
      taskId: task.taskId, runId: task.runId, subtaskId: 's2', executorId: 'exec-b', step: 1, kind: 'model', tool: '',
      summary: 'planned the edit', ok: true, at: new Date(t0 + 2500), attempt: 0, recalled: [], condensation: undefined,
      modelCall: undefined, durationMs: 0, arguments: '', observation: '',
    });
    // The attempt is listed as the executor sent it; a step without one has 0 (unknown).
    expect(page.steps.filter((s) => s.attempt !== 0).map(brief)).toEqual([['s1', 'exec-b', 1, new Date(t0 + 10_000).toISOString()]]);
    expect(page.steps.find((s) => s.subtaskId === 's1' && s.executorId === 'exec-b')?.attempt).toBe(2);
    const stored = await h.db
      .withSchema('orchestrator')
      .selectFrom('agent_steps')
      .select(['executor_id', 'subtask_id', 'step', 'attempt'])
      .where('task_id', '=', task.taskId)
      .where('subtask_id', '=', 's1')
      .where('step', '=', 1)
      .orderBy('at')
      .execute();
    expect(stored.map((r) => [r.executor_id, r.attempt])).toEqual([
      ['exec-a', null],
      ['exec-b', 2],
      ['exec-a', null],
    ]);
    expect(page.steps.find((s) => s.kind === 'verdict')).toMatchObject({ subtaskId: 's1', executorId: 'exec-a', step: 1, ok: false, summary: 'done' });
    // Duplicates and steps of unknown tasks left nothing behind, and were acked, not retried.
    expect(await countRows(h.db, 'agent_steps')).toBe(expected.length);
    const dropped = h.logs.filter((l) => l.message === 'agent step of an unknown task dropped');
    expect(dropped.map((l) => [l.level, l.fields.deliveryCount])).toEqual([
      ['debug', 1],
      ['debug', 1],
    ]);
  });

  it('lists the same steps by run id, and one subtask by subtask id', async () => {
    const all = (await listSteps({ taskId: task.taskId })).steps.map(brief);
    expect((await listSteps({ runId: task.runId })).steps.map(brief)).toEqual(all);
    expect((await listSteps({ taskId: task.taskId, subtaskId: 's2' })).steps.map(brief)).toEqual([expected[2]]);
    expect((await listSteps({ runId: 'run-of-nothing' })).steps).toEqual([]);
  });

  it('pages with limit and next_after, each step exactly once', async () => {
    const all = (await listSteps({ taskId: task.taskId })).steps.map(brief);
    const seen: AgentStep[] = [];
    const cursors: string[] = [];
    let after = '';
    for (let page = 0; page < 10; page++) {
      const response = await listSteps({ taskId: task.taskId, limit: 4, after });
      seen.push(...response.steps);
      cursors.push(response.nextAfter);
      if (response.nextAfter === '') break;
      after = response.nextAfter;
    }
    expect(seen.map(brief)).toEqual(all);
    expect(cursors.map((c) => c !== '')).toEqual([true, false]);

    // A subtask's pages carry the filter along with the cursor.
    const first = await listSteps({ taskId: task.taskId, subtaskId: 's1', limit: 2 });
    const second = await listSteps({ taskId: task.taskId, subtaskId: 's1', limit: 2, after: first.nextAfter });
    const third = await listSteps({ taskId: task.taskId, subtaskId: 's1', limit: 2, after: second.nextAfter });
    expect([...first.steps, ...second.steps, ...third.steps].map(brief)).toEqual(all.filter((e) => e[0] === 's1'));
    expect(third.nextAfter).toBe('');
  });

  it('returns a step stored after the cursor was taken even when its time is earlier than every listed step', async () => {
    const all = (await listSteps({ taskId: task.taskId })).steps.map(brief);
    const before = await listSteps({ taskId: task.taskId, limit: all.length - 1 });
    // A lagging consumer or an executor whose clock is behind: stored last, stamped first.
    const late = stepEvent('s3', 'exec-c', 1, -60);
    await publishSteps([late]);
    const rest = await listSteps({ taskId: task.taskId, after: before.nextAfter });
    expect(rest.steps.map(brief)).toEqual([all.at(-1), ['s3', 'exec-c', 1, late.at]]);
    expect(rest.nextAfter).toBe('');
    // Its time is listed as the executor reported it.
    expect(rest.steps[1]?.at).toEqual(new Date(t0 - 60_000));
  });

  it('dead-letters a step whose time is not a date, storing nothing', async () => {
    const rows = await countRows(h.db, 'agent_steps');
    await publishSteps([stepEvent('s9', 'exec-z', 1, 0, { at: 'yesterday' })]);
    expect(await countRows(h.db, 'agent_steps')).toBe(rows);
    const deadSubject = h.bus.namespace.subject(Subjects.deadLetter(Subjects.workStep));
    const dlq = await h.bus.jsm.streams.info(h.bus.namespace.stream(Streams.deadLetter.name), { subjects_filter: deadSubject });
    expect(dlq.state.subjects?.[deadSubject]).toBe(1);
  });
});

describe('step details', () => {
  const recalled = [
    { id: 'mem-1', kind: 'reflex', score: 0.0325, why: 'keyword rank 1 (ts_rank 0.42); vector rank 2 (cosine 0.71)', content: 'In this repository the tests need TZ=UTC.' },
    { id: 'mem-2', kind: 'preference', score: 0.0161, content: 'Use pnpm, never npm.' },
  ];
  const condensation = {
    trigger: 'context_too_long' as const, tokensBefore: 131_072, tokensAfter: 40_960, counted: 'exact' as const, summarisedMessages: 22,
    summarisedBy: 'model' as const, dropped: ['fs.read src/a.ts (superseded by a later read)', 'exec npm test: 9000 lines cut to head and tail'],
    pinnedFacts: 7, rejected: 'failing test "adds two numbers" (the first condensation summarised it away)',
  };

  it('keeps the memories of a recall step and the numbers of a condensation step, and lists them over gRPC', async () => {
    const recall = stepEvent('d1', 'exec-d', 1, 100, { kind: 'recall', summary: 'recalled 2 memories (180 tokens)', recalled, attempt: 1 });
    delete recall.tool;
    const condensed = stepEvent('d1', 'exec-d', 2, 101, { kind: 'condensation', summary: 'condensed 131072 → 40960 tokens', condensation, attempt: 1 });
    delete condensed.tool;
    // Memory had nothing for the subtask: the step says so, with an empty list.
    const none = stepEvent('d1', 'exec-d', 3, 102, { kind: 'recall', summary: 'no memories recalled', recalled: [], attempt: 1 });
    delete none.tool;
    await publishSteps([recall, condensed, none]);

    const page = await listSteps({ taskId: task.taskId, subtaskId: 'd1' });
    // Steps are consumed concurrently, so storage order may differ from publish order: compare by step.
    const steps = [...page.steps].sort((a, b) => a.step - b.step);
    expect(steps.map((s) => [s.step, s.kind])).toEqual([[1, 'recall'], [2, 'condensation'], [3, 'recall']]);
    expect(steps[0]?.recalled).toEqual([recalled[0], { ...recalled[1], why: '' }]);
    expect(steps[0]?.condensation).toBeUndefined();
    expect(steps[1]?.condensation).toEqual(condensation);
    expect(steps[1]?.recalled).toEqual([]);
    expect(steps[2]).toMatchObject({ recalled: [], condensation: undefined, summary: 'no memories recalled' });

    const rows = await h.db.withSchema('orchestrator').selectFrom('agent_steps').select(['step', 'details'])
      .where('task_id', '=', task.taskId).where('subtask_id', '=', 'd1').orderBy('step').execute();
    expect(rows).toEqual([
      { step: 1, details: { recalled } },
      { step: 2, details: { condensation } },
      { step: 3, details: { recalled: [] } },
    ]);
    // Steps without details store none.
    const plain = await h.db.withSchema('orchestrator').selectFrom('agent_steps').select('details')
      .where('task_id', '=', task.taskId).where('subtask_id', '=', 's2').execute();
    expect(plain).toEqual([{ details: null }]);
  });

  it("stores Orion's own recall step (planning, review) with what it recalled", async () => {
    const store = new PostgresAgentStepStore(h.db);
    const step = {
      taskId: task.taskId, runId: task.runId, subtaskId: 'plan', executorId: 'orion', step: 1, kind: 'recall' as const, tool: null,
      summary: 'recalled 1 memory for the plan', ok: true, at: new Date(t0 + 200_000), attempt: 1, recalled: [recalled[0]!],
    };
    expect(await store.record(step)).toBe('recorded');
    expect(await store.record(step)).toBe('duplicate');
    const listed = await store.list({ taskId: task.taskId, subtaskId: 'plan', limit: 10 });
    expect(listed).toEqual([{ ...step, seq: expect.any(Number) }]);
    expect(toAgentStepMessage(listed[0]!).recalled).toEqual([recalled[0]]);
  });
});

describe('model calls, durations, arguments and observations', () => {
  const modelCall = {
    provider: 'deepseek', model: 'deepseek-chat', scripted: false, inputTokens: 12_400, cachedInputTokens: 9_000, outputTokens: 310, reasoningTokens: 40, usd: 0.0042, priced: true,
  };

  it('keeps a model step\'s call and a tool step\'s arguments, observation and duration, and lists them over gRPC', async () => {
    const model = stepEvent('c1', 'exec-c', 1, 300, { kind: 'model', summary: 'deepseek/deepseek-chat: reading', modelCall, durationMs: 2_150, attempt: 1 });
    delete model.tool;
    const observation = `line 1\n\n[… 40000 characters cut …]\n\nlast line`;
    const tool = stepEvent('c1', 'exec-c', 2, 301, { tool: 'exec', summary: 'exec → ok', durationMs: 87, arguments: '{"argv":["npm","test"]}', observation, attempt: 1 });
    // A step from an executor that sends none of these.
    const old = stepEvent('c1', 'exec-c', 3, 302, { attempt: 1 });
    await publishSteps([model, tool, old]);

    const steps = [...(await listSteps({ taskId: task.taskId, subtaskId: 'c1' })).steps].sort((a, b) => a.step - b.step);
    expect(steps[0]).toMatchObject({ kind: 'model', modelCall, durationMs: 2_150, arguments: '', observation: '' });
    expect(steps[1]).toMatchObject({ kind: 'tool', tool: 'exec', modelCall: undefined, durationMs: 87, arguments: '{"argv":["npm","test"]}', observation });
    expect(steps[2]).toMatchObject({ modelCall: undefined, durationMs: 0, arguments: '', observation: '' });
  });

  it('keeps a scripted call as scripted and an unpriced one as unpriced', async () => {
    const scripted = stepEvent('c2', 'exec-c', 1, 310, {
      kind: 'model', summary: '[scripted] scripted/scripted: hi', modelCall: { ...modelCall, provider: 'scripted', model: 'scripted', scripted: true, usd: 0 },
    });
    delete scripted.tool;
    const unpriced = stepEvent('c2', 'exec-c', 2, 311, { kind: 'model', summary: 'x/y: hi', modelCall: { ...modelCall, provider: 'openai', model: 'new-model', usd: 0, priced: false } });
    delete unpriced.tool;
    await publishSteps([scripted, unpriced]);
    const steps = [...(await listSteps({ taskId: task.taskId, subtaskId: 'c2' })).steps].sort((a, b) => a.step - b.step);
    expect(steps.map((s) => [s.modelCall?.provider, s.modelCall?.scripted, s.modelCall?.priced])).toEqual([['scripted', true, true], ['openai', false, false]]);
  });
});

describe('ListAgentSteps rejects bad requests with INVALID_ARGUMENT naming the field', () => {
  it.each<[string, Partial<ListAgentStepsRequest>, string, string]>([
    ['neither task_id nor run_id', {}, 'task_id', 'task_id: is required unless run_id is given'],
    ['both task_id and run_id', { taskId: randomUUID(), runId: 'r1' }, 'run_id', 'run_id: must be empty when task_id is given'],
    ['a limit over 1000', { runId: 'r1', limit: 1001 }, 'limit', 'limit: must be at most 1000'],
    ['a negative limit', { runId: 'r1', limit: -1 }, 'limit', 'limit: must be 0'],
    ['a cursor it did not issue', { runId: 'r1', after: 'not-a-cursor' }, 'after', 'after: is not a cursor'],
    [
      'a cursor of the old time-ordered listing',
      { runId: 'r1', after: Buffer.from(JSON.stringify(['2030-01-02T03:04:05.000Z', 's1', 'exec-a', 1])).toString('base64url') },
      'after',
      'start again without after',
    ],
    ['an overlong subtask_id', { runId: 'r1', subtaskId: 's'.repeat(257) }, 'subtask_id', 'at most 256'],
  ])('%s', async (_what, overrides, field, message) => {
    const err = await listSteps(overrides).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UserError);
    expect(((err as UserError).cause as ServiceError).code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect((err as UserError).field).toBe(field);
    expect((err as UserError).message).toContain(message);
  });

  it('answers NOT_FOUND for a task that does not exist', async () => {
    const err = await listSteps({ taskId: randomUUID() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(((err as UserError).cause as ServiceError).code).toBe(GrpcStatus.NOT_FOUND);
    expect((err as UserError).code).toBe('TASK_NOT_FOUND');
  });
});

describe('migration 0004_agent_step_attempt', () => {
  it('keeps the steps recorded before it, with an unknown attempt', async () => {
    const before = Object.fromEntries(Object.entries(orchestratorMigrations).filter(([name]) => name < '0004'));
    const { db, drop } = await createScratchDatabase(before);
    try {
      const taskId = randomUUID();
      await sql`insert into orchestrator.tasks (id, goal, repo_path, test_command, project, status)
        values (${taskId}, 'old task', '/tmp/old', '[]', '', 'running')`.execute(db);
      await sql`insert into orchestrator.agent_steps (task_id, run_id, subtask_id, executor_id, step, kind, tool, summary, ok, at)
        values (${taskId}, 'run-old', 's1', 'exec-a', 1, 'tool', 'fs.read', 'read it', true, ${new Date(t0)})`.execute(db);

      await migrateToLatest(db as unknown as Kysely<unknown>, { schema: ORCHESTRATOR_SCHEMA, migrations: orchestratorMigrations, logger: createSilentLogger() });

      const store = new PostgresAgentStepStore(db);
      expect(await store.record({
        taskId, runId: 'run-old', subtaskId: 's1', executorId: 'exec-a', step: 1, kind: 'verdict', tool: null, summary: 'done', ok: true,
        at: new Date(t0 + 1000), attempt: 2,
      })).toBe('recorded');
      const listed = await store.list({ taskId, limit: 10 });
      expect(listed.map((s) => [s.summary, s.attempt])).toEqual([
        ['read it', null],
        ['done', 2],
      ]);
      expect(listed.map(toAgentStepMessage).map((m) => m.attempt)).toEqual([0, 2]);
    } finally {
      await drop();
    }
  });
});

describe('migration 0010_agent_step_details', () => {
  it('keeps the steps recorded before it, without details, and stores details of the steps after it', async () => {
    const before = Object.fromEntries(Object.entries(orchestratorMigrations).filter(([name]) => name < '0010'));
    const { db, drop } = await createScratchDatabase(before);
    try {
      const taskId = randomUUID();
      await sql`insert into orchestrator.tasks (id, goal, repo_path, test_command, project, status)
        values (${taskId}, 'old task', '/tmp/old', '[]', '', 'running')`.execute(db);
      await sql`insert into orchestrator.agent_steps (task_id, run_id, subtask_id, executor_id, step, kind, tool, summary, ok, at, attempt)
        values (${taskId}, 'run-old', 's1', 'exec-a', 1, 'model', null, 'thought', true, ${new Date(t0)}, 1)`.execute(db);

      await migrateToLatest(db as unknown as Kysely<unknown>, { schema: ORCHESTRATOR_SCHEMA, migrations: orchestratorMigrations, logger: createSilentLogger() });

      const store = new PostgresAgentStepStore(db);
      const recalled = [{ id: 'm1', kind: 'project', score: 0.5, why: 'pinned', content: 'services talk gRPC' }];
      expect(await store.record({
        taskId, runId: 'run-old', subtaskId: 's1', executorId: 'exec-a', step: 2, kind: 'recall', tool: null, summary: 'recalled 1 memory', ok: true,
        at: new Date(t0 + 1000), attempt: 1, recalled,
      })).toBe('recorded');
      const listed = await store.list({ taskId, limit: 10 });
      expect(listed.map((s) => [s.summary, s.recalled])).toEqual([
        ['thought', undefined],
        ['recalled 1 memory', recalled],
      ]);
    } finally {
      await drop();
    }
  });
});

describe('migration 0014_agent_step_call', () => {
  it('keeps the steps recorded before it, without calls, and stores the calls of the steps after it', async () => {
    const before = Object.fromEntries(Object.entries(orchestratorMigrations).filter(([name]) => name < '0014'));
    const { db, drop } = await createScratchDatabase(before);
    try {
      const taskId = randomUUID();
      await sql`insert into orchestrator.tasks (id, goal, repo_path, test_command, project, status)
        values (${taskId}, 'old task', '/tmp/old', '[]', '', 'running')`.execute(db);
      await sql`insert into orchestrator.agent_steps (task_id, run_id, subtask_id, executor_id, step, kind, tool, summary, ok, at, attempt)
        values (${taskId}, 'run-old', 's1', 'exec-a', 1, 'model', null, 'scripted/scripted: thought', true, ${new Date(t0)}, 1)`.execute(db);

      await migrateToLatest(db as unknown as Kysely<unknown>, { schema: ORCHESTRATOR_SCHEMA, migrations: orchestratorMigrations, logger: createSilentLogger() });

      const store = new PostgresAgentStepStore(db);
      const modelCall = { provider: 'scripted', model: 'scripted', scripted: true, inputTokens: 900, cachedInputTokens: 0, outputTokens: 12, reasoningTokens: 0, usd: 0, priced: true };
      expect(await store.record({
        taskId, runId: 'run-old', subtaskId: 's1', executorId: 'exec-a', step: 2, kind: 'model', tool: null, summary: 'scripted/scripted: next', ok: true,
        at: new Date(t0 + 1000), attempt: 1, modelCall, durationMs: 15,
      })).toBe('recorded');
      const listed = await store.list({ taskId, limit: 10 });
      expect(listed.map((s) => [s.summary, s.modelCall, s.durationMs])).toEqual([
        ['scripted/scripted: thought', undefined, undefined],
        ['scripted/scripted: next', modelCall, 15],
      ]);
      expect(toAgentStepMessage(listed[0]!)).toMatchObject({ modelCall: undefined, durationMs: 0, arguments: '', observation: '' });
    } finally {
      await drop();
    }
  });
});

describe('migration 0005_agent_step_seq', () => {
  it('numbers the steps recorded before it, and lists steps stored after them next, whatever their time', async () => {
    const before = Object.fromEntries(Object.entries(orchestratorMigrations).filter(([name]) => name < '0005'));
    const { db, drop } = await createScratchDatabase(before);
    try {
      const taskId = randomUUID();
      await sql`insert into orchestrator.tasks (id, goal, repo_path, test_command, project, status)
        values (${taskId}, 'old task', '/tmp/old', '[]', '', 'running')`.execute(db);
      await sql`insert into orchestrator.agent_steps (task_id, run_id, subtask_id, executor_id, step, kind, tool, summary, ok, at, attempt)
        values (${taskId}, 'run-old', 's1', 'exec-a', 1, 'tool', 'fs.read', 'read it', true, ${new Date(t0)}, 1)`.execute(db);

      await migrateToLatest(db as unknown as Kysely<unknown>, { schema: ORCHESTRATOR_SCHEMA, migrations: orchestratorMigrations, logger: createSilentLogger() });

      const store = new PostgresAgentStepStore(db);
      expect(await store.record({
        taskId, runId: 'run-old', subtaskId: 's1', executorId: 'exec-b', step: 1, kind: 'verdict', tool: null, summary: 'earlier clock', ok: true,
        at: new Date(t0 - 3_600_000), attempt: 1,
      })).toBe('recorded');
      const listed = await store.list({ taskId, limit: 10 });
      expect(listed.map((s) => s.summary)).toEqual(['read it', 'earlier clock']);
      expect(listed[0]?.seq).toBeGreaterThan(0);
      expect(await store.list({ runId: 'run-old', limit: 10, after: { seq: listed[0]?.seq ?? 0 } })).toMatchObject([{ summary: 'earlier clock' }]);
    } finally {
      await drop();
    }
  });
});
