/**
 * Retention of agent steps on the real PostgreSQL database: the sweep deletes, batch by batch,
 * the steps of tasks that finished longer ago than the retention period, and keeps the steps of
 * tasks still running (however old) and of tasks that finished recently.
 */
import { randomUUID } from 'node:crypto';
import { sql } from '@maestro/db';
import { pruneAgentSteps, StepRetention } from '../src/app/step-retention.js';
import type { TaskStatus } from '../src/domain/task.js';
import { PostgresAgentStepStore } from '../src/store/postgres-agent-step-store.js';
import type { OrchestratorDatabase } from '../src/store/schema.js';
import type { Kysely } from 'kysely';
import { createScratchDatabase, eventually, recordingLogger, type LogLine } from './harness.js';

const DAY = 24 * 60 * 60 * 1000;
const now = Date.parse('2031-06-01T00:00:00.000Z');
const clock = { now: () => now };

let db: Kysely<OrchestratorDatabase>;
let drop: () => Promise<void>;
let store: PostgresAgentStepStore;

beforeEach(async () => {
  ({ db, drop } = await createScratchDatabase());
  store = new PostgresAgentStepStore(db);
});

afterEach(async () => {
  await drop();
});

/** A task with `status`, last updated `daysAgo` days before `now`, and `count` steps. */
async function taskWithSteps(status: TaskStatus, daysAgo: number, count: number): Promise<string> {
  const taskId = randomUUID();
  const updatedAt = new Date(now - daysAgo * DAY);
  await sql`insert into orchestrator.tasks (id, goal, repo_path, test_command, project, status, created_at, updated_at)
    values (${taskId}, 'g', '/tmp/r', '[]', '', ${status}, ${updatedAt}, ${updatedAt})`.execute(db);
  for (let step = 1; step <= count; step++) {
    await store.record({
      taskId, runId: `run-${taskId}`, subtaskId: 's1', executorId: 'exec-a', step, kind: 'tool', tool: 'fs.write',
      summary: `#${step}`, ok: true, at: new Date(now - daysAgo * DAY - DAY + step), attempt: 1,
    });
  }
  return taskId;
}

async function stepCount(taskId: string): Promise<number> {
  return (await store.list({ taskId, limit: 1000 })).length;
}

describe('agent step retention', () => {
  it('deletes the steps of tasks finished longer ago than the retention, in batches, and keeps the rest', async () => {
    const oldSucceeded = await taskWithSteps('succeeded', 45, 7);
    const oldFailed = await taskWithSteps('failed', 31, 3);
    const oldCancelled = await taskWithSteps('cancelled', 400, 2);
    const recentSucceeded = await taskWithSteps('succeeded', 29, 4);
    const oldRunning = await taskWithSteps('running', 90, 5);
    const oldPending = await taskWithSteps('pending', 90, 1);

    // Batches of 3: 12 steps to delete take four statements, the last one short.
    const batches: number[] = [];
    const counting = {
      deleteStepsOfFinishedTasks: async (before: Date, limit: number) => {
        const deleted = await store.deleteStepsOfFinishedTasks(before, limit);
        batches.push(deleted);
        return deleted;
      },
    };
    expect(await pruneAgentSteps(counting, clock, { retentionDays: 30, batchSize: 3 })).toBe(12);
    expect(batches).toEqual([3, 3, 3, 3, 0]);

    expect(await stepCount(oldSucceeded)).toBe(0);
    expect(await stepCount(oldFailed)).toBe(0);
    expect(await stepCount(oldCancelled)).toBe(0);
    expect(await stepCount(recentSucceeded)).toBe(4);
    expect(await stepCount(oldRunning)).toBe(5);
    expect(await stepCount(oldPending)).toBe(1);
    // The tasks themselves stay: only their step history ages out.
    const tasks = await db.withSchema('orchestrator').selectFrom('tasks').select('id').execute();
    expect(tasks).toHaveLength(6);

    // A second sweep finds nothing more.
    expect(await pruneAgentSteps(store, clock, { retentionDays: 30 })).toBe(0);
  });

  it('the periodic sweep runs on start and logs what it deleted', async () => {
    const old = await taskWithSteps('succeeded', 10, 2);
    const kept = await taskWithSteps('running', 10, 2);
    const lines: LogLine[] = [];
    const retention = new StepRetention(store, clock, recordingLogger(lines), { retentionDays: 7, intervalMs: 60_000 });
    retention.start();
    try {
      await eventually(() => lines.filter((l) => l.message === 'old agent steps deleted'), (found) => found.length > 0, 'the first sweep');
    } finally {
      await retention.stop();
    }
    expect(await stepCount(old)).toBe(0);
    expect(await stepCount(kept)).toBe(2);
    expect(lines).toContainEqual({ level: 'info', message: 'old agent steps deleted', fields: { deleted: 2, retentionDays: 7 } });
  });
});
