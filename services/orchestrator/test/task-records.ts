/**
 * Task and subtask records for unit tests of Orion's pure domain: a running task `t1` of run
 * `run-1` with its `code` activity dispatched, and running subtasks on their first attempt.
 */
import type { SubtaskRecord, TaskRecord } from '../src/domain/task.js';

/** The `code` activity request the task's subtasks belong to. */
export const codeRef = { workId: 'run-1:code:1', runId: 'run-1', state: 'code', activity: 'code', attempt: 1 };

/** A running task, with `overrides`. */
export function taskRecord(overrides: Partial<TaskRecord> = {}): TaskRecord {
  return {
    id: 't1', goal: 'g', repoPath: '/r', testCommand: ['npm', 'test'], project: 'p', status: 'running', runId: 'run-1',
    failureReason: null, reviewSummary: null, reviewApproved: null, answer: null, idempotencyKey: null, tenant: 'default', memoryScopes: [], planWorkId: null, reviewWorkId: null, reviewSha: null,
    code: codeRef, budget: { usd: 0, tokens: 0 }, intent: null, workflow: 'coding', deliveryMode: null, delivery: null, baselineFailures: null, baselineExitCode: null, createdAt: new Date(0), updatedAt: new Date(0),
    ...overrides,
  };
}

/** A running subtask of task `t1` on its first (dispatched) attempt, with `overrides`. */
export function subtaskRecord(id: string, overrides: Partial<SubtaskRecord> = {}): SubtaskRecord {
  return {
    taskId: 't1', id, position: 0, title: `title ${id}`, instructions: 'i', files: [], status: 'running', attempt: 1,
    summary: null, commitSha: null, filesChanged: [], failureReason: null, result: null, dispatchedAttempt: 1,
    dispatchedAt: new Date(0), hint: null, role: null, dependsOn: [], resources: [], concerns: [], replaces: null,
    executorId: null, worktree: null, verdict: null,
    ...overrides,
  };
}
