/**
 * Records for unit tests of reflex learning: the divide() escalation (a RangeError test that
 * stayed red under `node --test`), its hint, and the verified success after it.
 */
import type { Escalation } from '@maestro/contracts';
import type { EscalationOutcome, EscalationRecord } from '../src/domain/escalations.js';
import type { SubtaskRecord } from '../src/domain/task.js';
import { subtaskRecord } from './task-records.js';

/** `node --test` (TAP) output of the failing run: one named failure, with its summary. */
export const FAILING_TAP = [
  'TAP version 13',
  '# Subtest: divide divides a by b',
  'ok 1 - divide divides a by b',
  '# Subtest: divide refuses to divide by zero',
  'not ok 2 - divide refuses to divide by zero',
  '  ---',
  "  error: 'Missing expected exception (RangeError).'",
  '  code: ERR_ASSERTION',
  '  stack: |-',
  '    at TestContext.<anonymous> (/tmp/maestro-worktrees/executor-1/abc/test/divide.test.js:10:10)',
  '  ...',
  '1..2',
  '# tests 2',
  '# pass 1',
  '# fail 1',
  '# cancelled 0',
].join('\n');

/** The escalation of attempt `attempt` of `subtaskId` (failure packet of the divide() scenario). */
export function divideEscalation(subtaskId = 's1', attempt = 1, failingTestOutput = FAILING_TAP): Escalation {
  const workId = `t1:${subtaskId}:${attempt}`;
  return {
    escalationId: workId, taskId: 't1', runId: 'run-1', subtaskId, attempt, executorId: 'executor-1', raisedAt: '2024-01-01T00:00:00.000Z',
    packet: {
      reason: 'tests_failed',
      subtask: { title: 'Create src/divide.js', instructions: 'Export divide(a, b).', files: ['test/divide.test.js', 'src/divide.js'] },
      attempts: [{ step: 3, summary: 'node --test: failed (exit 1)', ok: false }],
      steps: 4,
      lastDiff: '+export function divide(a, b) { return a / b; }',
      failingTestOutput,
      agentAccount: 'The implementation is correct; the zero test must be wrong.',
      filesChanged: ['src/divide.js', 'test/divide.test.js'],
      tokensSpent: { input: 100, output: 20 },
    },
    result: {
      workId, taskId: 't1', runId: 'run-1', subtaskId, attempt, ok: false, summary: 'done?', filesChanged: ['src/divide.js'],
      failureReason: 'tests_failed: the tests stayed red', executorId: 'executor-1', steps: 4, finishedAt: '2024-01-01T00:00:00.000Z',
      tests: { command: ['node', '--test'], exitCode: 1, passed: false, outputTail: failingTestOutput },
    },
  };
}

/** The hint that fixed it. */
export const HINT_DECISION: EscalationOutcome = {
  kind: 'hint',
  reason: 'divide(1, 0) returns Infinity instead of throwing',
  hint: 'In src/divide.js, throw a RangeError before dividing when b is 0.',
  model: { provider: 'scripted', model: 'scripted', scripted: true },
  at: '2024-01-01T00:00:01.000Z',
};

/** A stored, decided escalation of the divide() scenario. */
export function divideEscalationRecord(overrides: Partial<EscalationRecord> = {}, subtaskId = 's1', attempt = 1): EscalationRecord {
  const e = divideEscalation(subtaskId, attempt);
  return {
    escalationId: e.escalationId, taskId: 't1', runId: 'run-1', subtaskId, attempt, reason: 'tests_failed', escalation: e, status: 'decided',
    decision: HINT_DECISION, claimedUntil: null, createdAt: new Date(0), decidedAt: new Date(1000),
    ...overrides,
  };
}

/** The stored result of a verified success of `id` on `attempt`. */
export function verifiedResult(id: string, attempt: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    workId: `t1:${id}:${attempt}`, taskId: 't1', runId: 'run-1', subtaskId: id, attempt, ok: true, summary: 'fixed',
    filesChanged: ['src/divide.js', 'test/divide.test.js'], commitSha: `c-${id}-${attempt}`, executorId: 'executor-1', steps: 3,
    finishedAt: `2024-01-01T00:00:0${attempt}.000Z`,
    tests: { command: ['node', '--test'], exitCode: 0, passed: true, outputTail: '# pass 2\n# fail 0' },
    merged: { branch: 'maestro/t1', sha: `m-${id}-${attempt}` },
    ...overrides,
  };
}

/** A subtask that succeeded verified on `attempt`. */
export function succeededSubtask(id: string, attempt: number, overrides: Partial<SubtaskRecord> = {}): SubtaskRecord {
  return subtaskRecord(id, { status: 'succeeded', attempt, dispatchedAttempt: attempt, result: verifiedResult(id, attempt), ...overrides });
}
