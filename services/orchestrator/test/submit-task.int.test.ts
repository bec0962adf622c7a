/**
 * SubmitTask, GetTask, ListTasks and CancelTask over real gRPC, with the tasks in a real
 * PostgreSQL database and events on the real NATS server.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { Consumers, Streams, Subjects, type SubmitTaskRequest } from '@maestro/contracts';
import { OperationalError, UserError } from '@maestro/runtime';
import { countRows, createGitRepo, startHarness, type Harness } from './harness.js';

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
  return { goal: 'Add a multiply function to src/math.js', repoPath: repo.dir, testCommand: [], project: '', idempotencyKey: '', ...overrides };
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
  ])('%s', async (_what, overrides, field, message) => {
    const err = await submitError(overrides);
    expect((err.cause as ServiceError).code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(err.field).toBe(field);
    expect(err.message).toContain(message);
    expect(await countRows(h.db, 'tasks')).toBe(0);
    expect(h.workflow.starts).toHaveLength(0);
    expect(await taskEventCount()).toBe(0);
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
        definitionName: 'coding',
        definitionVersion: 0,
        input: { taskId, goal: task.goal, repoPath: repo.dir, testCommand: ['npm', 'test'], project: 'calc' },
        idempotencyKey: taskId,
      },
    ]);
    expect(task.runId).toMatch(/^run-/);
    expect(await h.client.call.getTask({ taskId })).toMatchObject({ id: taskId, runId: task.runId });
    expect(await taskEventCount()).toBe(1);
  });

  it('is returned again, without a second run, for the same idempotency key', async () => {
    const again = await h.client.call.submitTask(request({ idempotencyKey: 'submit-once', goal: 'something else' }));
    expect(again.id).toBe(taskId);
    expect(h.workflow.starts).toHaveLength(1);
    expect(await countRows(h.db, 'tasks')).toBe(1);
  });

  it('is listed, and filtered by status', async () => {
    expect((await h.client.call.listTasks({ limit: 0, status: '' })).tasks.map((t) => t.id)).toEqual([taskId]);
    expect((await h.client.call.listTasks({ limit: 10, status: 'succeeded' })).tasks).toEqual([]);
    const bad = await h.client.call.listTasks({ limit: 10, status: 'done' }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(UserError);
    expect((bad as UserError).field).toBe('status');
  });

  it('follows its run: running, then failed with the run error', async () => {
    const { runId } = await h.client.call.getTask({ taskId });
    const input = { taskId };
    await h.bus.publish(Subjects.runTransitioned, {
      runId, definitionName: 'coding', status: 'running', state: 'plan', fromState: 'intake', input, at: new Date().toISOString(),
    });
    await h.bus.publish(Subjects.runFinished, {
      runId, definitionName: 'coding', status: 'failed', state: 'failed', input,
      error: { code: 'SUBTASKS_FAILED', message: '1 of 2 subtasks failed' }, at: new Date().toISOString(),
    });
    await h.settled(Streams.events.name, Consumers.orchestratorRunEvents);
    const task = await h.client.call.getTask({ taskId });
    expect(task.status).toBe('failed');
    expect(task.failureReason).toBe('SUBTASKS_FAILED: 1 of 2 subtasks failed');
    // pending (submit) + running + failed
    expect(await taskEventCount()).toBe(3);
  });

  it('stays failed when cancelled after it ended', async () => {
    const task = await h.client.call.cancelTask({ taskId, reason: 'too late' });
    expect(task.status).toBe('failed');
    expect(h.workflow.events).toHaveLength(0);
  });
});

describe('CancelTask', () => {
  it('sends CANCEL to the run and marks the task cancelled', async () => {
    const task = await h.client.call.submitTask(request({ goal: 'Add a subtract function' }));
    const cancelled = await h.client.call.cancelTask({ taskId: task.id, reason: 'changed my mind' });
    expect(h.workflow.events).toEqual([{ runId: task.runId, type: 'CANCEL', payload: { reason: 'changed my mind' } }]);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.failureReason).toBe('changed my mind');
  });

  it('says NOT_FOUND for an unknown task', async () => {
    const err = await h.client.call.cancelTask({ taskId: '7c9e6679-7425-40de-944b-e07fc1f90ae7', reason: '' }).catch((e: unknown) => e);
    expect((err as UserError).cause).toMatchObject({ code: GrpcStatus.NOT_FOUND });
  });
});

describe('when the workflow-engine is down', () => {
  afterEach(() => {
    h.workflow.failStartWith = undefined;
  });

  it('fails a task without idempotency key and says UNAVAILABLE', async () => {
    h.workflow.failStartWith = new OperationalError('ENGINE_DOWN', 'engine is restarting');
    const err = await h.client.call.submitTask(request({ goal: 'Add divide' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperationalError);
    expect((err as OperationalError).message).toContain('could not be started');
    const failed = (await h.client.call.listTasks({ limit: 10, status: 'failed' })).tasks.find((t) => t.goal === 'Add divide');
    expect(failed?.failureReason).toContain('engine is restarting');
  });

  it('keeps a task with idempotency key pending and starts it on retry', async () => {
    h.workflow.failStartWith = new OperationalError('ENGINE_DOWN', 'engine is restarting');
    const err = await h.client.call.submitTask(request({ goal: 'Add modulo', idempotencyKey: 'retry-me' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperationalError);
    expect((err as Error).message).toContain('retry with the same idempotency_key');
    h.workflow.failStartWith = undefined;
    const task = await h.client.call.submitTask(request({ goal: 'Add modulo', idempotencyKey: 'retry-me' }));
    expect(task.status).toBe('pending');
    expect(task.runId).toMatch(/^run-/);
    expect((await h.client.call.listTasks({ limit: 100, status: '' })).tasks.filter((t) => t.goal === 'Add modulo')).toHaveLength(1);
  });
});
