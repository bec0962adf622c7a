import type { AgentVerdict } from '@maestro/agent';
import {
  SubtaskResultSchema,
  WorkFinishedEventSchema,
  WorkStepEventSchema,
  WorkStepLimits,
  type SubtaskWork,
} from '@maestro/contracts';
import {
  MAX_STEP_SUMMARY_CHARS,
  MAX_RECOVERED_TESTS,
  MAX_TEST_OUTPUT_CHARS,
  toFailedResult,
  toSubtaskResult,
  toWorkFinishedEvent,
  toWorkStepEvent,
} from './subtask-result.js';

const work: SubtaskWork = {
  workId: 'sub-1:2',
  taskId: 'task-1',
  runId: 'run-1',
  subtaskId: 'sub-1',
  attempt: 2,
  goal: 'g',
  title: 't',
  instructions: 'i',
  files: [],
  repoPath: '/repo',
  testCommand: ['npm', 'test'],
  project: 'p',
};
const origin = { executorId: 'exec-a', finishedAt: '2025-01-01T00:00:00.000Z' };

const succeeded: AgentVerdict = {
  status: 'succeeded',
  summary: 'added subtract()',
  steps: 4,
  filesChanged: ['src/math.js'],
  commitSha: 'abc123',
  tests: { command: ['npm', 'test'], exitCode: 0, passed: true, outputTail: 'ok 2' },
  usage: { inputTokens: 10, outputTokens: 5 },
};

describe('toSubtaskResult', () => {
  it('reports a succeeded verdict as ok with its evidence, for the orchestrator to accept', () => {
    const result = toSubtaskResult(work, succeeded, origin);
    expect(SubtaskResultSchema.parse(result)).toEqual(result);
    expect(result).toEqual({
      workId: 'sub-1:2',
      taskId: 'task-1',
      runId: 'run-1',
      subtaskId: 'sub-1',
      attempt: 2,
      ok: true,
      summary: 'added subtract()',
      filesChanged: ['src/math.js'],
      commitSha: 'abc123',
      tests: { command: ['npm', 'test'], exitCode: 0, passed: true, outputTail: 'ok 2' },
      executorId: 'exec-a',
      steps: 4,
      finishedAt: '2025-01-01T00:00:00.000Z',
    });
    expect(result.failureReason).toBeUndefined();
  });

  it.each([
    ['failed', 'tests still red after 3 tries'],
    ['stuck', 'the same fs.read repeated 3 times'],
    ['budget_exhausted', 'maxSteps 30 reached'],
  ] as const)('reports a %s verdict as failed, the status leading the reason', (status, reason) => {
    const result = toSubtaskResult(work, { ...succeeded, status, reason, commitSha: undefined }, origin);
    expect(SubtaskResultSchema.safeParse(result).success).toBe(true);
    expect(result.ok).toBe(false);
    expect(result.failureReason).toBe(`${status}: ${reason}`);
    expect(result).not.toHaveProperty('commitSha');
  });

  it('falls back to the summary when a failed verdict gives no reason', () => {
    const result = toSubtaskResult(work, { ...succeeded, status: 'failed', summary: 'gave up' }, origin);
    expect(result.failureReason).toBe('failed: gave up');
  });

  it('keeps the end of long test output, where the failure is', () => {
    const output = `${'x'.repeat(10_000)}AssertionError: 1 !== 2`;
    const result = toSubtaskResult(
      work,
      { ...succeeded, status: 'failed', tests: { command: ['npm', 'test'], exitCode: 1, passed: false, outputTail: output } },
      origin,
    );
    expect(result.tests?.outputTail.length).toBe(MAX_TEST_OUTPUT_CHARS);
    expect(result.tests?.outputTail.endsWith('AssertionError: 1 !== 2')).toBe(true);
    expect(result.tests?.exitCode).toBe(1);
  });

  it('keeps a null exit code (killed test run) as null', () => {
    const result = toSubtaskResult(
      work,
      { ...succeeded, status: 'failed', tests: { command: ['x'], exitCode: null, passed: false, outputTail: '' } },
      origin,
    );
    expect(SubtaskResultSchema.parse(result).tests?.exitCode).toBeNull();
  });

  it('carries the failed run a success recovered from, bounded, and drops it from a failure', () => {
    const names = Array.from({ length: 30 }, (_, i) => `test ${i}`);
    const recoveredFrom = { failingTests: names, outputTail: `${'x'.repeat(10_000)}AssertionError: 5 !== -1`, exitCode: 1 };
    const result = SubtaskResultSchema.parse(toSubtaskResult(work, { ...succeeded, recoveredFrom }, origin));
    expect(result.recoveredFrom?.failingTests).toEqual(names.slice(0, MAX_RECOVERED_TESTS));
    expect(result.recoveredFrom?.outputTail.length).toBe(MAX_TEST_OUTPUT_CHARS);
    expect(result.recoveredFrom?.outputTail.endsWith('AssertionError: 5 !== -1')).toBe(true);
    expect(result.recoveredFrom?.exitCode).toBe(1);

    const failed = toSubtaskResult(work, { ...succeeded, status: 'stuck', recoveredFrom }, origin);
    expect(failed.recoveredFrom).toBeUndefined();
  });
});

describe('toFailedResult', () => {
  it('builds a valid failed result that tells why', () => {
    const result = toFailedResult(work, 'work dead-lettered: max deliveries (5) reached', origin);
    expect(SubtaskResultSchema.safeParse(result).success).toBe(true);
    expect(result).toMatchObject({ ok: false, workId: 'sub-1:2', steps: 0, filesChanged: [] });
    expect(result.failureReason).toBe('work dead-lettered: max deliveries (5) reached');
    expect(result.summary).toContain('max deliveries');
  });
});

describe('events', () => {
  it('builds the finished event from a result', () => {
    const event = toWorkFinishedEvent(toSubtaskResult(work, { ...succeeded, status: 'stuck', reason: 'loop' }, origin));
    expect(WorkFinishedEventSchema.parse(event)).toEqual(event);
    expect(event).toMatchObject({ ok: false, failureReason: 'stuck: loop', commitSha: 'abc123', attempt: 2 });
  });

  it('builds a step event with a truncated summary', () => {
    const event = toWorkStepEvent(
      work,
      { index: 3, kind: 'tool', tool: 'fs.write', summary: 'y'.repeat(2_000), ok: true },
      'exec-a',
      origin.finishedAt,
    );
    expect(WorkStepEventSchema.parse(event)).toEqual(event);
    expect(event).toMatchObject({ step: 3, kind: 'tool', tool: 'fs.write', executorId: 'exec-a', subtaskId: 'sub-1' });
    expect(event.summary.length).toBe(MAX_STEP_SUMMARY_CHARS);
  });

  it('leaves the tool out of model steps', () => {
    const event = toWorkStepEvent(work, { index: 0, kind: 'model', summary: 'thinking', ok: true }, 'exec-a', origin.finishedAt);
    expect(event).not.toHaveProperty('tool');
    expect(event).not.toHaveProperty('recalled');
    expect(event).not.toHaveProperty('condensation');
  });

  it('carries the memories of a recall step, as they went into the prompt', () => {
    const recalled = [
      { id: 'm1', kind: 'reflex', score: 0.032, why: 'keyword rank 1; vector rank 2', content: 'tests need TZ=UTC' },
      { id: 'm2', kind: 'preference', score: 0.016, content: 'use pnpm' },
    ];
    const event = toWorkStepEvent(work, { index: 0, kind: 'recall', summary: 'recalled 2 memories', ok: true, recalled }, 'exec-a', origin.finishedAt);
    expect(WorkStepEventSchema.parse(event)).toEqual(event);
    expect(event).toMatchObject({ kind: 'recall', step: 0, recalled });
    expect(event).not.toHaveProperty('condensation');
  });

  it('carries a model step\'s call: who answered, its tokens, cost and duration', () => {
    const modelCall = {
      provider: 'deepseek', model: 'deepseek-chat', scripted: false, inputTokens: 1_200, cachedInputTokens: 800, outputTokens: 90, reasoningTokens: 0, usd: 0.00042, priced: true,
    };
    const event = toWorkStepEvent(work, { index: 2, kind: 'model', summary: 'deepseek/deepseek-chat: ok', ok: true, modelCall, durationMs: 1234.6 }, 'exec-a', origin.finishedAt);
    expect(WorkStepEventSchema.parse(event)).toEqual(event);
    expect(event).toMatchObject({ modelCall, durationMs: 1235 });
    expect(event).not.toHaveProperty('arguments');
    expect(event).not.toHaveProperty('observation');
  });

  it('carries a tool step\'s arguments and observation, whole when short', () => {
    const event = toWorkStepEvent(
      work,
      { index: 4, kind: 'tool', tool: 'fs.read', summary: 'fs.read → …', ok: true, durationMs: 3, arguments: '{"path":"src/a.ts"}', observation: 'export const a = 1;\n' },
      'exec-a',
      origin.finishedAt,
    );
    expect(WorkStepEventSchema.parse(event)).toEqual(event);
    expect(event).toMatchObject({ arguments: '{"path":"src/a.ts"}', observation: 'export const a = 1;\n', durationMs: 3 });
    expect(event).not.toHaveProperty('modelCall');
  });

  it('cuts long arguments at the end and a long observation in the middle, within the bounds, marking each cut', () => {
    const args = JSON.stringify({ path: 'big.txt', content: 'a'.repeat(20_000) });
    const observation = `HEAD-${'x'.repeat(50_000)}-TAIL`;
    const event = toWorkStepEvent(work, { index: 5, kind: 'tool', tool: 'fs.write', summary: 's', ok: true, arguments: args, observation }, 'exec-a', origin.finishedAt);
    expect(event.arguments!.length).toBeLessThanOrEqual(WorkStepLimits.argumentsChars);
    expect(event.arguments!.startsWith('{"path":"big.txt"')).toBe(true);
    expect(event.arguments).toMatch(/\[… \d+ characters cut …\]\n$/);
    expect(event.observation!.length).toBeLessThanOrEqual(WorkStepLimits.observationChars);
    expect(event.observation!.startsWith('HEAD-')).toBe(true);
    expect(event.observation!.endsWith('-TAIL')).toBe(true);
    const omitted = Number(/\[… (\d+) characters cut …\]/.exec(event.observation!)?.[1]);
    // What was kept plus what the marker says was cut is the whole observation.
    expect(event.observation!.length - `\n[… ${omitted} characters cut …]\n`.length + omitted).toBe(observation.length);
  });

  it('still reads a step event from an executor that sends none of the step details', () => {
    const old = { taskId: 't', runId: 'r', subtaskId: 's', executorId: 'e', step: 1, kind: 'model', summary: 'x', ok: true, at: origin.finishedAt };
    expect(WorkStepEventSchema.parse(old)).toEqual(old);
  });

  it('carries what a condensation step did', () => {
    const condensation = {
      trigger: 'context_too_long' as const, tokensBefore: 120_000, tokensAfter: 30_000, counted: 'exact' as const, summarisedMessages: 18,
      summarisedBy: 'rule' as const, dropped: ['fs.read src/a.ts (superseded by a later read)'], pinnedFacts: 5, rejected: 'failing test "adds"',
    };
    const event = toWorkStepEvent(work, { index: 7, kind: 'condensation', summary: 'condensed', ok: true, condensation }, 'exec-a', origin.finishedAt);
    expect(WorkStepEventSchema.parse(event)).toEqual(event);
    expect(event.condensation).toEqual(condensation);
    expect(event).not.toHaveProperty('recalled');
  });
});
