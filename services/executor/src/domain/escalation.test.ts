import type { AgentVerdict } from '@maestro/agent';
import { EscalationSchema, type SubtaskWork } from '@maestro/contracts';
import { countTokens } from '@maestro/llm';
import { classifyFailure, isEscalation, isSubjectToken, resultOf, toEscalation, trimToTokens } from './escalation.js';

const work: SubtaskWork = {
  workId: 'task-1:s1:2', taskId: 'task-1', runId: 'run-1', subtaskId: 's1', attempt: 2, goal: 'g', title: 'Create src/divide.js',
  instructions: 'Export divide(a, b)', files: ['src/divide.js'], repoPath: '/repo', testCommand: ['npm', 'test'], project: 'p', hint: 'check b',
};

const verdict: AgentVerdict = {
  status: 'stuck',
  reason: 'declared done 2 times with the same failing test output',
  summary: 'The zero test must be wrong. Done.',
  steps: 4,
  filesChanged: ['src/divide.js', 'test/divide.test.js'],
  tests: { command: ['npm', 'test'], exitCode: 1, passed: false, outputTail: 'not ok 2 - divide refuses to divide by zero\nMissing expected exception (RangeError).' },
  usage: { inputTokens: 4000, outputTokens: 250 },
};

describe('classifyFailure', () => {
  it('tells red tests, loops, unreadable replies, budgets and other failures apart', () => {
    expect(classifyFailure(verdict)).toBe('tests_failed');
    expect(classifyFailure({ ...verdict, reason: 'declaring done returned the same result 3 times' })).toBe('tests_failed');
    expect(classifyFailure({ status: 'stuck', reason: 'fs.read({"path":"a"}) returned the same result 3 times' })).toBe('stuck');
    expect(classifyFailure({ status: 'stuck', reason: 'an unreadable reply returned the same result 3 times' })).toBe('unparseable');
    expect(classifyFailure({ ...verdict, status: 'budget_exhausted', reason: 'used all 30 model turns without passing tests' })).toBe('budget_exhausted');
    expect(classifyFailure({ status: 'failed', reason: 'model call failed: context too long' })).toBe('failed');
    expect(classifyFailure({ ...verdict, status: 'failed', reason: 'model call failed: x' })).toBe('tests_failed');
  });
});

describe('trimToTokens', () => {
  const long = Array.from({ length: 400 }, (_, i) => `line ${i}: assertion failed`).join('\n');

  it('keeps what fits, the end for test output and the start for a diff, marking the cut', () => {
    const tail = trimToTokens(long, 50, 'tail');
    expect(countTokens(tail)).toBeLessThanOrEqual(50);
    expect(tail.startsWith('…')).toBe(true);
    expect(tail.endsWith('line 399: assertion failed')).toBe(true);
    const head = trimToTokens(long, 50, 'head');
    expect(countTokens(head)).toBeLessThanOrEqual(50);
    expect(head.startsWith('line 0:')).toBe(true);
    expect(head.endsWith('…')).toBe(true);
  });

  it('leaves a text that fits alone', () => {
    expect(trimToTokens('short', 50, 'tail')).toBe('short');
    expect(trimToTokens('anything', 0, 'tail')).toBe('');
  });
});

describe('toEscalation', () => {
  it('packs the subtask, test runs, trimmed diff and output, the account and the spend, with the failed result', () => {
    const diff = `diff --git a/src/divide.js b/src/divide.js\n${'+x\n'.repeat(5000)}`;
    const escalation = toEscalation(
      work,
      verdict,
      { diff, testRuns: [{ step: 2, summary: 'npm test: failed (exit 1)', ok: false }] },
      { executorId: 'exec-1', finishedAt: '2024-01-01T00:00:00.000Z' },
      { diffTokens: 100 },
    );
    expect(EscalationSchema.parse(escalation)).toEqual(escalation);
    expect(escalation).toMatchObject({
      escalationId: 'task-1:s1:2', taskId: 'task-1', runId: 'run-1', subtaskId: 's1', attempt: 2, executorId: 'exec-1', raisedAt: '2024-01-01T00:00:00.000Z',
      packet: {
        reason: 'tests_failed',
        subtask: { title: 'Create src/divide.js', instructions: 'Export divide(a, b)', files: ['src/divide.js'], hint: 'check b' },
        attempts: [{ step: 2, summary: 'npm test: failed (exit 1)', ok: false }],
        steps: 4,
        failingTestOutput: verdict.tests?.outputTail,
        agentAccount: 'The zero test must be wrong. Done. (stuck: declared done 2 times with the same failing test output)',
        filesChanged: ['src/divide.js', 'test/divide.test.js'],
        tokensSpent: { input: 4000, output: 250 },
      },
      result: { ok: false, failureReason: 'stuck: declared done 2 times with the same failing test output', workId: 'task-1:s1:2' },
    });
    expect(countTokens(escalation.packet.lastDiff)).toBeLessThanOrEqual(100);
    expect(escalation.packet.lastDiff.startsWith('diff --git a/src/divide.js')).toBe(true);
    expect(isEscalation(escalation)).toBe(true);
    expect(resultOf(escalation)).toBe(escalation.result);
    expect(isEscalation(escalation.result)).toBe(false);
  });

  it('has no failing output when the tests passed or never ran', () => {
    const { tests: _tests, ...untested } = verdict;
    expect(toEscalation(work, { ...untested, status: 'budget_exhausted' }, { diff: '', testRuns: [] }, { executorId: 'e', finishedAt: 'now' }).packet).toMatchObject({
      reason: 'budget_exhausted',
      failingTestOutput: '',
      lastDiff: '',
    });
  });
});

describe('isSubjectToken', () => {
  it('accepts task ids that fit in one subject token', () => {
    expect(isSubjectToken('0b7c2a4e-9d1f-4c8e-a2b3-5f6e7d8c9b0a')).toBe(true);
    expect(['a.b', 'a b', 'a*', '>', ''].map(isSubjectToken)).toEqual([false, false, false, false, false]);
  });
});
