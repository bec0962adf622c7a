/**
 * PostgresTaskStore against a real PostgreSQL database: idempotency keys, memory scopes, subtask replacement,
 * row locking and rollback.
 */
import { randomUUID } from 'node:crypto';
import { migrateToLatest, sql } from '@maestro/db';
import { createSilentLogger } from '@maestro/runtime';
import type { Kysely } from 'kysely';
import { orchestratorMigrations } from '../src/store/migrations.js';
import { PostgresTaskStore } from '../src/store/postgres-task-store.js';
import { ORCHESTRATOR_SCHEMA, type OrchestratorDatabase } from '../src/store/schema.js';
import type { NewTask } from '../src/store/task-store.js';
import { countRows, createScratchDatabase } from './harness.js';

let db: Kysely<OrchestratorDatabase>;
let drop: () => Promise<void>;
let store: PostgresTaskStore;

beforeAll(async () => {
  ({ db, drop } = await createScratchDatabase());
  store = new PostgresTaskStore(db);
});

afterAll(async () => {
  await drop?.();
});

function newTask(overrides: Partial<NewTask> = {}): NewTask {
  return { id: randomUUID(), tenant: 'default', goal: 'g', repoPath: '/repo', testCommand: ['npm', 'test'], project: 'p', idempotencyKey: null,
    budget: { usd: 0, tokens: 0 }, intent: null, workflow: 'coding', ...overrides };
}

const plan = [
  { id: 'a', title: 'A', instructions: 'do a', files: ['src/a.js'] },
  { id: 'b', title: 'B', instructions: 'do b', files: [] },
];

it("stores a task's memory scopes and reads them back; a task stored without any has none", async () => {
  const { task } = await store.insertTask(newTask({ memoryScopes: ['user:alice', 'team:platform'] }));
  expect(task.memoryScopes).toEqual(['user:alice', 'team:platform']);
  expect((await store.getTask(task.id))?.task.memoryScopes).toEqual(['user:alice', 'team:platform']);
  const { task: plain } = await store.insertTask(newTask());
  expect((await store.getTask(plain.id))?.task.memoryScopes).toEqual([]);
});

it('reads a task stored before migration 0017_task_memory_scopes with no memory scopes', async () => {
  const upTo0016 = Object.fromEntries(Object.entries(orchestratorMigrations).filter(([name]) => name < '0017'));
  const scratch = await createScratchDatabase(upTo0016);
  try {
    const id = randomUUID();
    await sql`insert into orchestrator.tasks (id, goal, repo_path, test_command, project, status) values (${id}, 'g', '/r', '[]', 'p', 'pending')`.execute(scratch.db);
    await migrateToLatest(scratch.db as unknown as Kysely<unknown>, { schema: ORCHESTRATOR_SCHEMA, migrations: orchestratorMigrations, logger: createSilentLogger() });
    expect((await new PostgresTaskStore(scratch.db).getTask(id))?.task.memoryScopes).toEqual([]);
  } finally {
    await scratch.drop();
  }
});

it('stores a task with its argv test command and reads it back', async () => {
  const { task, created } = await store.insertTask(newTask({ testCommand: ['node', '--test', 'a b'] }));
  expect(created).toBe(true);
  expect(task).toMatchObject({ status: 'pending', testCommand: ['node', '--test', 'a b'], runId: null, code: null });
  expect((await store.getTask(task.id))?.task.testCommand).toEqual(['node', '--test', 'a b']);
});

it('returns the existing task for a used idempotency key and stores nothing new', async () => {
  const first = await store.insertTask(newTask({ idempotencyKey: 'same' }));
  const before = await countRows(db, 'tasks');
  const second = await store.insertTask(newTask({ idempotencyKey: 'same', goal: 'other' }));
  expect(second).toEqual({ task: first.task, created: false });
  expect(await countRows(db, 'tasks')).toBe(before);
});

it('keeps idempotency keys per tenant, and lists one tenant\'s tasks when asked', async () => {
  const a = await store.insertTask(newTask({ tenant: 'store-a', idempotencyKey: 'per-tenant' }));
  const b = await store.insertTask(newTask({ tenant: 'store-b', idempotencyKey: 'per-tenant' }));
  expect([a.created, b.created]).toEqual([true, true]);
  expect(b.task.id).not.toBe(a.task.id);
  expect(b.task.tenant).toBe('store-b');
  expect((await store.insertTask(newTask({ tenant: 'store-a', idempotencyKey: 'per-tenant' }))).task.id).toBe(a.task.id);
  expect((await store.findByIdempotencyKey('per-tenant', 'store-b'))?.task.id).toBe(b.task.id);
  expect(await store.findByIdempotencyKey('per-tenant', 'store-c')).toBeUndefined();
  expect((await store.listTasks({ tenant: 'store-a', limit: 10 })).tasks.map((t) => t.task.id)).toEqual([a.task.id]);
  expect((await store.listTasks({ limit: 500 })).tasks.map((t) => t.task.id)).toEqual(expect.arrayContaining([a.task.id, b.task.id]));
});

it('treats ids that are not UUIDs as unknown instead of failing', async () => {
  expect(await store.getTask('not-a-uuid')).toBeUndefined();
  expect(await store.withLockedTask('not-a-uuid', async () => 1)).toBeUndefined();
});

it('replaces subtasks rather than adding to them, keeping plan order', async () => {
  const { task } = await store.insertTask(newTask());
  await store.withLockedTask(task.id, (l) => l.replaceSubtasks(plan));
  await store.withLockedTask(task.id, (l) => l.replaceSubtasks([...plan].reverse()));
  const found = await store.getTask(task.id);
  expect(found?.subtasks.map((s) => [s.id, s.position, s.status, s.attempt, s.files])).toEqual([
    ['b', 0, 'pending', 0, []],
    ['a', 1, 'pending', 0, ['src/a.js']],
  ]);
});

it('rolls back everything done under the lock when the callback throws', async () => {
  const { task } = await store.insertTask(newTask());
  await expect(
    store.withLockedTask(task.id, async (l) => {
      await l.replaceSubtasks(plan);
      await l.update({ status: 'running' });
      throw new Error('boom');
    }),
  ).rejects.toThrow('boom');
  const found = await store.getTask(task.id);
  expect(found?.task.status).toBe('pending');
  expect(found?.subtasks).toEqual([]);
});

it('serializes concurrent updates of one task', async () => {
  const { task } = await store.insertTask(newTask());
  await store.withLockedTask(task.id, (l) => l.replaceSubtasks([{ id: 'n', title: 'counter', instructions: 'i', files: [] }]));
  await Promise.all(
    Array.from({ length: 10 }, () =>
      store.withLockedTask(task.id, async (l) => {
        const [sub] = await l.subtasks();
        await new Promise((r) => setImmediate(r));
        await l.updateSubtask('n', { attempt: (sub?.attempt ?? 0) + 1 });
      }),
    ),
  );
  expect((await store.getTask(task.id))?.subtasks[0]?.attempt).toBe(10);
});

it('lists newest first, filtered by status, with subtasks', async () => {
  const { task } = await store.insertTask(newTask({ goal: 'newest' }));
  await store.withLockedTask(task.id, async (l) => {
    await l.replaceSubtasks(plan);
    await l.update({ status: 'running', code: { workId: 'w', runId: 'r', state: 'code', activity: 'code', attempt: 1 } });
  });
  const [newest] = (await store.listTasks({ limit: 1 })).tasks;
  expect(newest?.task.goal).toBe('newest');
  expect(newest?.task.code).toEqual({ workId: 'w', runId: 'r', state: 'code', activity: 'code', attempt: 1 });
  expect(newest?.subtasks).toHaveLength(2);
  const running = await store.listTasks({ limit: 50, status: 'running' });
  expect(running.tasks.map((t) => t.task.id)).toEqual([task.id]);
});

it('marks an attempt dispatched only while the subtask is still on that attempt', async () => {
  const { task } = await store.insertTask(newTask());
  await store.withLockedTask(task.id, async (l) => {
    await l.replaceSubtasks(plan);
    await l.updateSubtask('a', { status: 'running', attempt: 2 });
    await l.updateSubtask('b', { status: 'running', attempt: 1 });
  });
  const at = new Date('2024-05-01T10:00:00Z');
  // `a` moved on to attempt 2 before the mark of attempt 1 arrived: that mark must not count for 2.
  await store.withLockedTask(task.id, (l) => l.markDispatched([{ subtaskId: 'a', attempt: 1 }, { subtaskId: 'b', attempt: 1 }], at));
  const found = await store.getTask(task.id);
  expect(found?.subtasks.map((s) => [s.id, s.attempt, s.dispatchedAttempt, s.dispatchedAt?.toISOString() ?? null])).toEqual([
    ['a', 2, null, null],
    ['b', 1, 1, at.toISOString()],
  ]);
});

it('lists pending tasks without a run, oldest first', async () => {
  const older = (await store.insertTask(newTask({ goal: 'unstarted older' }))).task;
  const newer = (await store.insertTask(newTask({ goal: 'unstarted newer' }))).task;
  const started = (await store.insertTask(newTask({ goal: 'started' }))).task;
  await store.withLockedTask(started.id, (l) => l.update({ runId: 'run-1' }));
  const cancelled = (await store.insertTask(newTask({ goal: 'cancelled' }))).task;
  await store.withLockedTask(cancelled.id, (l) => l.update({ status: 'cancelled' }));

  const ids = (await store.listUnstartedTasks(500)).map((t) => t.id);
  expect(ids).toContain(older.id);
  expect(ids.indexOf(older.id)).toBeLessThan(ids.indexOf(newer.id));
  expect(ids).not.toContain(started.id);
  expect(ids).not.toContain(cancelled.id);
});
