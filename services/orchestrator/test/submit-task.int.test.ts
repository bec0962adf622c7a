/**
 * SubmitTask, GetTask, ListTasks and CancelTask over real gRPC, with the tasks in a real
 * PostgreSQL database and events on the real NATS server.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { Consumers, MemoryScopeLimits, Streams, Subjects, TaskLimits, type SubmitTaskRequest } from '@maestro/contracts';
import { createSilentLogger, OperationalError, UnexpectedError, UserError } from '@maestro/runtime';
import { reconcileDeadLetteredRunEvent } from '../src/transport/nats/run-events.subscriber.js';
import { PostgresTaskStore } from '../src/store/postgres-task-store.js';
import { ORCHESTRATOR_SCHEMA } from '../src/store/schema.js';
import { countRows, createGitRepo, eventually, startHarness, type Harness } from './harness.js';

let h: Harness;
let repo: { dir: string; remove(): Promise<void> };
let plainDir: string;

beforeAll(async () => {
  h = await startHarness();
  repo = await createGitRepo({
    'package.json': JSON.stringify({ name: 'calc', scripts: { test: 'node --test' } }),
    'src/math.js': 'export const add = (a, b) => a + b;\n',
  });
  plainDir = await mkdtemp(path.join(os.tmpdir(), 'orchestrator-plain-'));
});

afterAll(async () => {
  await h?.close();
  await repo?.remove();
  if (plainDir) await rm(plainDir, { recursive: true, force: true });
});

function request(overrides: Partial<SubmitTaskRequest>): SubmitTaskRequest {
  return { tenant: '', goal: 'Add a multiply function to src/math.js', repoPath: repo.dir, testCommand: [], project: '', idempotencyKey: '', budget: undefined, workflow: '', memoryScopes: [], ...overrides };
}

async function submitError(overrides: Partial<SubmitTaskRequest>): Promise<UserError> {
  const err = await h.client.call.submitTask(request(overrides)).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UserError);
  return err as UserError;
}

async function taskEventCount(): Promise<number> {
  const info = await h.bus.jsm.streams.info(h.bus.namespace.stream(Streams.events.name), {
    subjects_filter: h.bus.namespace.subject(Subjects.taskUpdated),
  });
  return info.state.subjects?.[h.bus.namespace.subject(Subjects.taskUpdated)] ?? 0;
}

describe('SubmitTask rejects bad input with INVALID_ARGUMENT naming the field, storing nothing', () => {
  it.each([
    ['a missing goal', { goal: '' }, 'goal', 'goal: is required'],
    ['an empty goal', { goal: '   ' }, 'goal', 'goal: must not be empty'],
    ['a repo_path that does not exist', { repoPath: '/nonexistent/orchestrator-test/repo' }, 'repo_path', 'does not exist'],
    ['a relative repo_path', { repoPath: 'calc' }, 'repo_path', 'must be an absolute path'],
    // PostgreSQL refuses NUL in text; without the check these were INTERNAL.
    ['a NUL in the goal', { goal: 'Add\u0000 multiply' }, 'goal', 'goal: must not contain NUL (\\u0000) characters'],
    ['a NUL in a test_command argument', { testCommand: ['npm', 'te\u0000st'] }, 'test_command[1]', 'must not contain NUL'],
    ['a NUL in the project', { project: 'ca\u0000lc' }, 'project', 'must not contain NUL'],
    ['a NUL in the idempotency key', { idempotencyKey: 'k\u0000' }, 'idempotency_key', 'must not contain NUL'],
    ['a NUL in a memory scope', { memoryScopes: ['user:al\u0000ice'] }, 'memory_scopes[0]', 'must not contain NUL'],
    ['a memory scope that is not one', { memoryScopes: ['user:alice', 'group:ops'] }, 'memory_scopes[1]', 'memory_scopes[1]: must be "user:<id>" or "team:<id>"'],
    ['the project memory scope, always recalled', { memoryScopes: ['project'] }, 'memory_scopes[0]', 'must not be "project"'],
  ])('%s', async (_what, overrides, field, message) => {
    const err = await submitError(overrides);
    expect((err.cause as ServiceError).code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(err.field).toBe(field);
    expect(err.message).toContain(message);
    expect(await countRows(h.db, 'tasks')).toBe(0);
    expect(h.workflow.starts).toHaveLength(0);
    expect(await taskEventCount()).toBe(0);
  });

  it.each([
    ['a test_command over the argument limit', { testCommand: Array.from({ length: TaskLimits.testCommandMaxArgs + 1 }, () => 'x') }, 'test_command', `at most ${TaskLimits.testCommandMaxArgs} are allowed`],
    ['a goal over the limit', { goal: 'g'.repeat(TaskLimits.goalMaxChars + 1) }, 'goal', `at most ${TaskLimits.goalMaxChars} are allowed`],
    [
      'more memory scopes than allowed',
      { memoryScopes: Array.from({ length: MemoryScopeLimits.maxTaskScopes + 1 }, (_, i) => `team:t${i}`) },
      'memory_scopes',
      `at most ${MemoryScopeLimits.maxTaskScopes} are allowed`,
    ],
  ])('%s', async (_what, overrides, field, message) => {
    const err = await submitError(overrides);
    expect((err.cause as ServiceError).code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(err.field).toBe(field);
    expect(err.message).toContain(message);
    expect(await countRows(h.db, 'tasks')).toBe(0);
  });

  it('a directory whose .git is an empty directory', async () => {
    const fake = path.join(plainDir, 'empty-dot-git');
    await mkdir(path.join(fake, '.git'), { recursive: true });
    const err = await submitError({ repoPath: fake, testCommand: ['npm', 'test'] });
    expect((err.cause as ServiceError).code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(err.field).toBe('repo_path');
    expect(err.message).toContain(`${fake} is not a git work tree`);
    expect(await countRows(h.db, 'tasks')).toBe(0);
    expect(h.workflow.starts).toHaveLength(0);
  });

  it('a directory whose .git is a file of junk', async () => {
    const fake = path.join(plainDir, 'junk-dot-git');
    await mkdir(fake, { recursive: true });
    await writeFile(path.join(fake, '.git'), 'gitdir? no\n');
    const err = await submitError({ repoPath: fake, testCommand: ['npm', 'test'] });
    expect((err.cause as ServiceError).code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(err.field).toBe('repo_path');
    expect(err.message).toContain(`${fake} is not a git work tree`);
    expect(await countRows(h.db, 'tasks')).toBe(0);
    expect(h.workflow.starts).toHaveLength(0);
  });

  it('a subdirectory of a repository, naming the top level to pass', async () => {
    const sub = path.join(repo.dir, 'src');
    const err = await submitError({ repoPath: sub, testCommand: ['npm', 'test'] });
    expect((err.cause as ServiceError).code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(err.field).toBe('repo_path');
    expect(err.message).toBe(`repo_path: ${sub} is inside the git repository ${repo.dir}, not its top level; pass ${repo.dir} instead`);
    expect(await countRows(h.db, 'tasks')).toBe(0);
    expect(h.workflow.starts).toHaveLength(0);
  });

  it('a directory that is not a git repository', async () => {
    const err = await submitError({ repoPath: plainDir, testCommand: ['npm', 'test'] });
    expect((err.cause as ServiceError).code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(err.field).toBe('repo_path');
    expect(err.message).toContain('is not a git work tree');
    expect(await countRows(h.db, 'tasks')).toBe(0);
    expect(h.workflow.starts).toHaveLength(0);
    expect(await taskEventCount()).toBe(0);
  });
});

describe('a valid task', () => {
  let taskId: string;

  it('is stored and its coding run started with the task as input', async () => {
    const task = await h.client.call.submitTask(request({ idempotencyKey: 'submit-once' }));
    taskId = task.id;
    expect(task).toMatchObject({
      goal: 'Add a multiply function to src/math.js',
      repoPath: repo.dir,
      testCommand: ['npm', 'test'],
      project: 'calc',
      status: 'pending',
    });
    expect(h.workflow.starts).toEqual([
      {
        tenant: 'default',
        definitionName: 'coding',
        definitionVersion: 0,
        input: { taskId, goal: task.goal, repoPath: repo.dir, testCommand: ['npm', 'test'], project: 'calc' },
        idempotencyKey: taskId,
      },
    ]);
    expect(task.runId).toMatch(/^run-/);
    expect(await h.client.call.getTask({ tenant: '', taskId })).toMatchObject({ id: taskId, runId: task.runId });
    expect(await taskEventCount()).toBe(1);
  });

  it('is returned again, without a second run, for the same idempotency key', async () => {
    const again = await h.client.call.submitTask(request({ idempotencyKey: 'submit-once', goal: 'something else' }));
    expect(again.id).toBe(taskId);
    expect(h.workflow.starts).toHaveLength(1);
    expect(await countRows(h.db, 'tasks')).toBe(1);
  });

  it('is listed, and filtered by status', async () => {
    expect((await h.client.call.listTasks({ tenant: '', limit: 0, status: '', goalContains: '', pageToken: '' })).tasks.map((t) => t.id)).toEqual([taskId]);
    expect((await h.client.call.listTasks({ tenant: '', limit: 10, status: 'succeeded', goalContains: '', pageToken: '' })).tasks).toEqual([]);
    const bad = await h.client.call.listTasks({ tenant: '', limit: 10, status: 'done', goalContains: '', pageToken: '' }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(UserError);
    expect((bad as UserError).field).toBe('status');
  });

  it('follows its run: running, then failed with the run error', async () => {
    const { runId } = await h.client.call.getTask({ tenant: '', taskId });
    const input = { taskId };
    await h.bus.publish(Subjects.runTransitioned, {
      runId, definitionName: 'coding', status: 'running', state: 'plan', fromState: 'intake', input, at: new Date().toISOString(),
    });
    await h.bus.publish(Subjects.runFinished, {
      runId, definitionName: 'coding', status: 'failed', state: 'failed', input,
      error: { code: 'SUBTASKS_FAILED', message: '1 of 2 subtasks failed' }, at: new Date().toISOString(),
    });
    await h.settled(Streams.events.name, Consumers.orchestratorRunEvents);
    const task = await h.client.call.getTask({ tenant: '', taskId });
    expect(task.status).toBe('failed');
    expect(task.failureReason).toBe('SUBTASKS_FAILED: 1 of 2 subtasks failed');
    // pending (submit) + running + failed
    expect(await taskEventCount()).toBe(3);
  });

  it('stays failed when cancelled after it ended', async () => {
    const task = await h.client.call.cancelTask({ tenant: '', taskId, reason: 'too late' });
    expect(task.status).toBe('failed');
    expect(h.workflow.events).toHaveLength(0);
  });
});

describe('memory scopes', () => {
  /** The task's row as stored, not as the mapper shows it. */
  async function storedScopes(taskId: string): Promise<unknown> {
    const row = await h.db.withSchema(ORCHESTRATOR_SCHEMA).selectFrom('tasks').select('memory_scopes').where('id', '=', taskId).executeTakeFirstOrThrow();
    return row.memory_scopes;
  }

  it('are stored with the task, trimmed and each once, and returned by SubmitTask, GetTask and ListTasks', async () => {
    const task = await h.client.call.submitTask(request({ goal: 'Add a power function', memoryScopes: [' user:alice', 'team:platform ', 'user:alice'] }));
    expect(task.memoryScopes).toEqual(['user:alice', 'team:platform']);
    expect(await storedScopes(task.id)).toEqual(['user:alice', 'team:platform']);
    expect((await h.client.call.getTask({ tenant: '', taskId: task.id })).memoryScopes).toEqual(['user:alice', 'team:platform']);
    const listed = await h.client.call.listTasks({ tenant: '', limit: 10, status: '', goalContains: 'power function', pageToken: '' });
    expect(listed.tasks.map((t) => t.memoryScopes)).toEqual([['user:alice', 'team:platform']]);
  });

  it('are none for a task that names none', async () => {
    const task = await h.client.call.submitTask(request({ goal: 'Add a root function' }));
    expect(await storedScopes(task.id)).toEqual([]);
    expect((await h.client.call.getTask({ tenant: '', taskId: task.id })).memoryScopes).toEqual([]);
  });

  it('stay as first stored when the same idempotency key is submitted again with others', async () => {
    const first = await h.client.call.submitTask(request({ goal: 'Add a log function', idempotencyKey: 'scoped-once', memoryScopes: ['team:platform'] }));
    const again = await h.client.call.submitTask(request({ goal: 'Add a log function', idempotencyKey: 'scoped-once', memoryScopes: ['user:bob'] }));
    expect(again).toMatchObject({ id: first.id, memoryScopes: ['team:platform'] });
    expect(await storedScopes(first.id)).toEqual(['team:platform']);
  });
});

describe('CancelTask', () => {
  it('sends CANCEL to the run and marks the task cancelled', async () => {
    const task = await h.client.call.submitTask(request({ goal: 'Add a subtract function' }));
    const cancelled = await h.client.call.cancelTask({ tenant: '', taskId: task.id, reason: 'changed my mind' });
    expect(h.workflow.events).toEqual([{ tenant: 'default', runId: task.runId, type: 'CANCEL', payload: { reason: 'changed my mind' } }]);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.failureReason).toBe('changed my mind');
  });

  it('keeps the reason when the run\'s cancelled event marked the task before the cancel answered', async () => {
    const task = await h.client.call.submitTask(request({ goal: 'Add a modulo function' }));
    h.workflow.beforeCancelAnswer = async (runId) => {
      // The engine's run.finished (cancelled, carrying no reason) is applied first.
      await h.bus.publish(Subjects.runFinished, {
        runId, definitionName: 'coding', status: 'cancelled', state: 'cancelled', input: { taskId: task.id }, at: new Date().toISOString(),
      });
      await h.settled(Streams.events.name, Consumers.orchestratorRunEvents);
      const marked = await h.client.call.getTask({ tenant: '', taskId: task.id });
      expect(marked).toMatchObject({ status: 'cancelled', failureReason: '' });
    };
    try {
      const cancelled = await h.client.call.cancelTask({ tenant: '', taskId: task.id, reason: 'wrong repository' });
      expect(cancelled).toMatchObject({ status: 'cancelled', failureReason: 'wrong repository' });
    } finally {
      h.workflow.beforeCancelAnswer = undefined;
    }
  });

  it('says NOT_FOUND for an unknown task', async () => {
    const err = await h.client.call.cancelTask({ tenant: '', taskId: '7c9e6679-7425-40de-944b-e07fc1f90ae7', reason: '' }).catch((e: unknown) => e);
    expect((err as UserError).cause).toMatchObject({ code: GrpcStatus.NOT_FOUND });
  });
});

describe('when the workflow-engine is down', () => {
  afterEach(() => {
    h.workflow.failStartWith = undefined;
    h.workflow.failAfterCreatingWith = undefined;
  });

  async function runOf(taskId: string): Promise<string> {
    const task = await eventually(() => h.client.call.getTask({ tenant: '', taskId }), (t) => t.runId !== '', `a run for task ${taskId}`);
    return task.runId;
  }

  it('keeps a task without idempotency key pending and starts its run once the engine is back', async () => {
    h.workflow.failStartWith = new OperationalError('ENGINE_DOWN', 'engine is restarting');
    const task = await h.client.call.submitTask(request({ goal: 'Add divide' }));
    expect(task).toMatchObject({ status: 'pending', runId: '', failureReason: '' });
    // Still pending, not failed, while the engine stays down.
    await eventually(() => h.logs.filter((l) => l.message.startsWith('run not started yet') && l.fields.taskId === task.id).length, (n) => n >= 3, 'a few retries');
    expect((await h.client.call.getTask({ tenant: '', taskId: task.id })).status).toBe('pending');

    h.workflow.failStartWith = undefined;
    const runId = await runOf(task.id);
    expect(runId).toBe(h.workflow.runFor(task.id));
    const started = await h.client.call.getTask({ tenant: '', taskId: task.id });
    expect(started).toMatchObject({ status: 'pending', failureReason: '' });
    expect((await h.client.call.listTasks({ tenant: '', limit: 100, status: '', goalContains: '', pageToken: '' })).tasks.filter((t) => t.goal === 'Add divide')).toHaveLength(1);
  });

  it('keeps the task pending, not failed, when the engine answers INTERNAL (its own database down), and starts the run later', async () => {
    // The engine maps an unexpected error (say its database unreachable) to INTERNAL.
    h.workflow.failStartWith = new UnexpectedError('ENGINE_DB_DOWN', 'connect ECONNREFUSED 127.0.0.1:5432');
    const task = await h.client.call.submitTask(request({ goal: 'Add square' }));
    expect(task).toMatchObject({ status: 'pending', runId: '', failureReason: '' });
    await eventually(() => h.logs.filter((l) => l.message.startsWith('run not started yet') && l.fields.taskId === task.id).length, (n) => n >= 2, 'a few retries');
    expect((await h.client.call.getTask({ tenant: '', taskId: task.id })).status).toBe('pending');

    h.workflow.failStartWith = undefined;
    expect(await runOf(task.id)).toBe(h.workflow.runFor(task.id));
    expect((await h.client.call.getTask({ tenant: '', taskId: task.id })).failureReason).toBe('');
  });

  it('attaches the run the engine created although StartRun reported a failure, starting no second one', async () => {
    h.workflow.failAfterCreatingWith = new OperationalError('DEADLINE_EXCEEDED', 'StartRun: deadline exceeded');
    const task = await h.client.call.submitTask(request({ goal: 'Add negate' }));
    expect(task).toMatchObject({ status: 'pending', runId: '' });
    const created = h.workflow.runFor(task.id);
    expect(created).toMatch(/^run-/);

    h.workflow.failAfterCreatingWith = undefined;
    expect(await runOf(task.id)).toBe(created);
    const starts = h.workflow.starts.filter((r) => r.input?.taskId === task.id);
    expect(starts.length).toBeGreaterThanOrEqual(2);
    expect(new Set(starts.map((r) => r.idempotencyKey))).toEqual(new Set([task.id]));
  });

  it('keeps a task with idempotency key pending, and a retry with the key returns it with its run', async () => {
    h.workflow.failStartWith = new OperationalError('ENGINE_DOWN', 'engine is restarting');
    const first = await h.client.call.submitTask(request({ goal: 'Add modulo', idempotencyKey: 'retry-me' }));
    expect(first).toMatchObject({ status: 'pending', runId: '' });
    h.workflow.failStartWith = undefined;
    const again = await h.client.call.submitTask(request({ goal: 'Add modulo', idempotencyKey: 'retry-me' }));
    expect(again.id).toBe(first.id);
    expect(again.runId).toMatch(/^run-/);
    expect(await runOf(first.id)).toBe(again.runId);
    expect((await h.client.call.listTasks({ tenant: '', limit: 100, status: '', goalContains: '', pageToken: '' })).tasks.filter((t) => t.goal === 'Add modulo')).toHaveLength(1);
  });

  it('has a starting replica start the runs of tasks left without one', async () => {
    // As if a replica stored the task, the engine was down, and the replica died retrying.
    const { task } = await new PostgresTaskStore(h.db).insertTask({
      id: randomUUID(), tenant: 'default', goal: 'Add sign', repoPath: repo.dir, testCommand: ['npm', 'test'], project: 'calc', idempotencyKey: null, budget: { usd: 0, tokens: 0 }, intent: null, workflow: 'coding',
    });
    await h.startReplica();
    expect(await runOf(task.id)).toBe(h.workflow.runFor(task.id));
  });

  it('fails the task, and says FAILED_PRECONDITION, when the engine refuses to start the run', async () => {
    h.workflow.failStartWith = new UserError('DEFINITION_NOT_FOUND', 'workflow definition coding does not exist', { reason: 'not_found' });
    const err = await h.client.call.submitTask(request({ goal: 'Add abs' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(((err as UserError).cause as ServiceError).code).toBe(GrpcStatus.FAILED_PRECONDITION);
    expect((err as UserError).message).toContain('could not be started');
    const failed = (await h.client.call.listTasks({ tenant: '', limit: 100, status: 'failed', goalContains: '', pageToken: '' })).tasks.find((t) => t.goal === 'Add abs');
    expect(failed?.failureReason).toContain('workflow definition coding does not exist');
  });
});

describe('cancelling a task whose run is not known yet', () => {
  afterEach(() => {
    h.workflow.failStartWith = undefined;
  });

  it('cancels the run that StartRun creates after the cancel', async () => {
    const open = h.workflow.closeStartGate();
    const submitted = h.client.call.submitTask(request({ goal: 'Add floor' }));
    await eventually(() => h.workflow.waitingAtGate, (n) => n === 1, 'StartRun in flight');
    const [pending] = (await h.client.call.listTasks({ tenant: '', limit: 100, status: 'pending', goalContains: '', pageToken: '' })).tasks.filter((t) => t.goal === 'Add floor');
    expect(pending?.runId).toBe('');

    const cancelled = await h.client.call.cancelTask({ tenant: '', taskId: pending?.id ?? '', reason: 'wrong repository' });
    expect(cancelled).toMatchObject({ status: 'cancelled', failureReason: 'wrong repository' });
    open();

    const task = await submitted;
    const runId = h.workflow.runFor(task.id);
    expect(task).toMatchObject({ id: pending?.id, status: 'cancelled', runId });
    expect(h.workflow.events).toContainEqual({ tenant: 'default', runId, type: 'CANCEL', payload: { reason: 'wrong repository' } });
  });

  it('cancels a run that turns up later through its events', async () => {
    h.workflow.failStartWith = new OperationalError('ENGINE_DOWN', 'engine is restarting');
    const task = await h.client.call.submitTask(request({ goal: 'Add ceil' }));
    const cancelled = await h.client.call.cancelTask({ tenant: '', taskId: task.id, reason: 'no longer needed' });
    expect(cancelled.status).toBe('cancelled');

    // The engine had created the run after all; its first event names the task.
    const runId = `run-late-${task.id.slice(0, 8)}`;
    await h.bus.publish(Subjects.runStarted, {
      runId, definitionName: 'coding', status: 'running', state: 'intake', input: { taskId: task.id }, at: new Date().toISOString(),
    });
    await h.settled(Streams.events.name, Consumers.orchestratorRunEvents);
    expect(h.workflow.events.filter((e) => e.runId === runId)).toEqual([{ tenant: 'default', runId, type: 'CANCEL', payload: { reason: 'no longer needed' } }]);
    const after = await h.client.call.getTask({ tenant: '', taskId: task.id });
    expect(after).toMatchObject({ status: 'cancelled', runId });

    // Later events of that run change nothing and send no second CANCEL.
    await h.bus.publish(Subjects.runFinished, {
      runId, definitionName: 'coding', status: 'cancelled', state: 'cancelled', input: { taskId: task.id }, at: new Date().toISOString(),
    });
    await h.settled(Streams.events.name, Consumers.orchestratorRunEvents);
    expect(h.workflow.events.filter((e) => e.runId === runId)).toHaveLength(1);
  });

  it('refuses a cancel reason over the limit', async () => {
    const task = await h.client.call.submitTask(request({ goal: 'Add round' }));
    const err = await h.client.call.cancelTask({ tenant: '', taskId: task.id, reason: 'x'.repeat(TaskLimits.cancelReasonMaxChars + 1) }).catch((e: unknown) => e);
    expect((err as UserError).field).toBe('reason');
    expect(((err as UserError).cause as ServiceError).code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect((await h.client.call.getTask({ tenant: '', taskId: task.id })).status).toBe('pending');
  });
});

describe('NUL characters in any other call', () => {
  it.each([
    ['GetTask', () => h.client.call.getTask({ tenant: '', taskId: 'task\u0000' }), 'task_id'],
    ['CancelTask', () => h.client.call.cancelTask({ tenant: '', taskId: 'task-1', reason: 'stop\u0000' }), 'reason'],
    ['ListAgentSteps', () => h.client.call.listAgentSteps({ tenant: '', taskId: '\u0000', runId: '', subtaskId: '', limit: 0, after: '' }), 'task_id'],
  ] as const)('%s answers INVALID_ARGUMENT naming the proto field', async (_rpc, call, field) => {
    const err = await (call as () => Promise<unknown>)().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(((err as UserError).cause as ServiceError).code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect((err as UserError).field).toBe(field);
    expect((err as UserError).message).toBe(`${field}: must not contain NUL (\\u0000) characters`);
  });
});

describe('when StartRun hangs longer than the inline wait', () => {
  let quick: Harness;
  beforeAll(async () => {
    quick = await startHarness({ inlineStartMs: 200 });
  });
  afterAll(async () => {
    await quick?.close();
  });

  it('returns the task pending at once and attaches the run when the call completes in the background', async () => {
    const open = quick.workflow.closeStartGate();
    let taskId = '';
    try {
      const task = await quick.client.call.submitTask(request({ goal: 'Add cube' }));
      taskId = task.id;
      expect(task).toMatchObject({ status: 'pending', runId: '', failureReason: '' });
      // The call is still in flight at the engine: the client was answered before it returned.
      expect(quick.workflow.waitingAtGate).toBe(1);
    } finally {
      open();
    }
    const started = await eventually(() => quick.client.call.getTask({ tenant: '', taskId }), (t) => t.runId !== '', 'the run attached');
    expect(started.runId).toBe(quick.workflow.runFor(taskId));
    expect(new Set(quick.workflow.starts.map((r) => r.idempotencyKey))).toEqual(new Set([taskId]));
    expect((await quick.client.call.listTasks({ tenant: '', limit: 100, status: '', goalContains: '', pageToken: '' })).tasks.filter((t) => t.goal === 'Add cube')).toHaveLength(1);
  });
});

describe('a dead-lettered run event', () => {
  it('is reconciled from GetRun: the task takes the run\'s real status', async () => {
    const task = await h.client.call.submitTask(request({ goal: 'Add halve' }));
    const runId = task.runId;
    expect(runId).toMatch(/^run-/);
    h.workflow.runStatuses.set(runId, 'done');
    const event = { runId, definitionName: 'coding', status: 'done', state: 'done', input: { taskId: task.id }, at: new Date().toISOString() };
    const taskEvents = { updated: async () => undefined };
    await reconcileDeadLetteredRunEvent(
      { subject: 'maestro.events.run.finished', reason: 'failed 30 times', deliveries: 30, payload: event, raw: JSON.stringify(event) },
      { store: new PostgresTaskStore(h.db), workflow: h.workflowPort, taskEvents },
      createSilentLogger(),
    );
    expect((await h.client.call.getTask({ tenant: '', taskId: task.id })).status).toBe('succeeded');
  });

  it('leaves the task as it is when the run cannot be read', async () => {
    const task = await h.client.call.submitTask(request({ goal: 'Add double' }));
    const event = { runId: 'run-unknown', definitionName: 'coding', status: 'done', state: 'done', input: { taskId: task.id }, at: new Date().toISOString() };
    await reconcileDeadLetteredRunEvent(
      { subject: 'maestro.events.run.finished', reason: 'failed 30 times', deliveries: 30, payload: event, raw: JSON.stringify(event) },
      { store: new PostgresTaskStore(h.db), workflow: h.workflowPort, taskEvents: { updated: async () => undefined } },
      createSilentLogger(),
    );
    expect((await h.client.call.getTask({ tenant: '', taskId: task.id })).status).toBe('pending');
  });
});
