/**
 * PostgresTaskTraceStore against a real PostgreSQL database (the `trace_context` column of
 * migration `0013_task_trace_context`): the contract, plus unknown and malformed task ids.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { PostgresTaskStore } from '../src/store/postgres-task-store.js';
import { PostgresTaskTraceStore } from '../src/store/postgres-task-trace-store.js';
import type { OrchestratorDatabase } from '../src/store/schema.js';
import { createScratchDatabase } from './harness.js';
import { defineTaskTraceStoreContract } from './task-trace-store.contract.js';

let db: Kysely<OrchestratorDatabase>;
let drop: () => Promise<void>;

beforeAll(async () => {
  ({ db, drop } = await createScratchDatabase());
});

afterAll(async () => {
  await drop?.();
});

async function addTask(): Promise<string> {
  const { task } = await new PostgresTaskStore(db).insertTask({
    id: randomUUID(),
    tenant: 'default',
    goal: 'g',
    repoPath: '/repo',
    testCommand: ['npm', 'test'],
    project: 'p',
    idempotencyKey: null,
    budget: { usd: 0, tokens: 0 },
    intent: null,
    workflow: 'coding',
  });
  return task.id;
}

defineTaskTraceStoreContract('postgres', async () => ({ store: new PostgresTaskTraceStore(db), addTask }));

it('keeps nothing for a task that does not exist, and treats ids that are not UUIDs as unknown', async () => {
  const store = new PostgresTaskTraceStore(db);
  const carrier = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };
  expect(await store.remember(randomUUID(), carrier)).toBeNull();
  expect(await store.remember('not-a-uuid', carrier)).toBeNull();
  expect(await store.recall('not-a-uuid')).toBeNull();
});
