import type { AgentStep, Run } from '../api/types';
import { applyRunEvent, createRunState, stepCall, taskIdOfRun } from './run-state';
import { stepKey } from './step-key';

const run: Run = {
  id: 'r1',
  definitionName: 'coding',
  definitionVersion: 1,
  status: 'running',
  state: 'plan',
  attempt: 1,
  context: { input: { taskId: 't1' } },
  history: [
    { seq: 1, fromState: '', toState: 'intake', eventType: 'xstate.init', event: {}, at: '2030-01-01T00:00:00.000Z' },
    { seq: 2, fromState: 'intake', toState: 'plan', eventType: 'activity.done', event: {}, at: '2030-01-01T00:00:01.000Z' },
  ],
  steps: [],
  createdAt: null,
  updatedAt: null,
};

function step(n: number, at: string, kind = 'tool', subtaskId = 's1'): AgentStep {
  return { taskId: 't1', runId: 'r1', subtaskId, executorId: 'executor-1', step: n, kind, summary: `step ${n}`, ok: true, at };
}

describe('run state', () => {
  it('knows the task of a coding run', () => {
    expect(createRunState(run).taskId).toBe('t1');
    expect(taskIdOfRun({ context: null })).toBe('');
  });

  it('adds each transition once and follows the state', () => {
    const state = createRunState(run);
    const replayed = applyRunEvent(state, { name: 'run.transitioned', data: { runId: 'r1', seq: 2, fromState: 'intake', state: 'plan', replay: true } });
    expect(replayed.changed).toBe(false);
    const live = applyRunEvent(state, { name: 'run.transitioned', data: { runId: 'r1', seq: 3, fromState: 'plan', state: 'code', at: '2030-01-01T00:00:02.000Z' } });
    expect(live).toMatchObject({ changed: true, taskChanged: true });
    expect(state.state).toBe('code');
    expect(state.transitions.map((t) => t.seq)).toEqual([1, 2, 3]);
  });

  it('keeps a note as a note, the state where it was', () => {
    const state = createRunState(run);
    applyRunEvent(state, { name: 'run.transitioned', data: { runId: 'r1', seq: 3, fromState: 'plan', state: 'code' } });
    const noted = applyRunEvent(state, { name: 'run.transitioned', data: { runId: 'r1', seq: 4, fromState: 'code', state: 'code', eventType: 'escalation.raised', note: true } });
    expect(noted.changed).toBe(true);
    expect(state.state).toBe('code');
    expect(state.transitions.at(-1)).toMatchObject({ seq: 4, eventType: 'escalation.raised', note: true });
  });

  it('ignores events of another run', () => {
    const state = createRunState(run);
    expect(applyRunEvent(state, { name: 'run.transitioned', data: { runId: 'r2', seq: 9, state: 'done' } }).changed).toBe(false);
  });

  it('keeps steps in time order without duplicates, and times each against its agent’s previous step', () => {
    const state = createRunState(run);
    applyRunEvent(state, { name: 'work.step', data: { ...step(2, '2030-01-01T00:00:05.000Z') } });
    applyRunEvent(state, { name: 'work.step', data: { ...step(1, '2030-01-01T00:00:03.000Z') } });
    const again = applyRunEvent(state, { name: 'work.step', data: { ...step(1, '2030-01-01T00:00:03.000Z'), replay: true } });
    expect(again.changed).toBe(false);
    expect(state.steps.map((e) => e.step.step)).toEqual([1, 2]);
    expect(state.steps[1]?.sincePreviousMs).toBe(2000);
  });

  it('tells a re-run of the same step number apart by its time', () => {
    const state = createRunState(run);
    applyRunEvent(state, { name: 'work.step', data: { ...step(1, '2030-01-01T00:00:03.000Z') } });
    applyRunEvent(state, { name: 'work.step', data: { ...step(1, '2030-01-01T00:01:03.000Z') } });
    expect(state.steps).toHaveLength(2);
  });

  it('matches each completion to the model step it paid for, whatever arrives first', () => {
    const state = createRunState(run);
    const completion = (at: string, inputTokens: number) => ({
      name: 'llm.completed',
      data: { runId: 'r1', subtaskId: 's1', provider: 'scripted', model: 'demo', scripted: true, inputTokens, outputTokens: 5, cachedInputTokens: 2, costUsd: 0, durationMs: 12, at },
    });
    applyRunEvent(state, { name: 'work.step', data: { ...step(1, '2030-01-01T00:00:03.010Z', 'model') } });
    applyRunEvent(state, completion('2030-01-01T00:00:03.000Z', 100));
    applyRunEvent(state, completion('2030-01-01T00:00:04.000Z', 200));
    applyRunEvent(state, { name: 'work.step', data: { ...step(2, '2030-01-01T00:00:03.500Z', 'tool') } });
    applyRunEvent(state, { name: 'work.step', data: { ...step(3, '2030-01-01T00:00:04.020Z', 'model') } });
    const byNumber = new Map(state.steps.map((e) => [e.step.step, e]));
    expect(byNumber.get(1)?.usage?.inputTokens).toBe(100);
    expect(byNumber.get(2)?.usage).toBeUndefined();
    expect(byNumber.get(3)?.usage?.inputTokens).toBe(200);
    expect(state.byKey.get(stepKey(step(3, '2030-01-01T00:00:04.020Z')))?.usage?.cachedInputTokens).toBe(2);
  });

  it('shows a recorded step’s own call, opened after the run with no live event seen', () => {
    const modelCall = { provider: 'deepseek', model: 'deepseek-chat', scripted: false, inputTokens: 1200, cachedInputTokens: 800, outputTokens: 40, reasoningTokens: 0, usd: 0.0004, priced: true };
    const state = createRunState({ ...run, steps: [{ ...step(1, '2030-01-01T00:00:03.000Z', 'model'), modelCall, durationMs: 900 }, step(2, '2030-01-01T00:00:04.000Z', 'tool')] });
    const [model, tool] = state.steps;
    expect(stepCall(model!)).toEqual({ ...modelCall, source: 'recorded', durationMs: 900 });
    expect(stepCall(tool!)).toBeUndefined();
  });

  it('prefers the recorded call to a live completion, and falls back to the completion for a step without one', () => {
    const state = createRunState(run);
    const modelCall = { provider: 'scripted', model: 'scripted', scripted: true, inputTokens: 10, cachedInputTokens: 0, outputTokens: 1, reasoningTokens: 0, usd: 0, priced: true };
    applyRunEvent(state, { name: 'work.step', data: { ...step(1, '2030-01-01T00:00:03.010Z', 'model'), modelCall } });
    applyRunEvent(state, { name: 'work.step', data: { ...step(2, '2030-01-01T00:00:05.010Z', 'model') } });
    const completion = (at: string, inputTokens: number) => ({
      name: 'llm.completed',
      data: { runId: 'r1', subtaskId: 's1', provider: 'openai', model: 'gpt-x', scripted: false, inputTokens, outputTokens: 5, costUsd: 0.01, priced: true, durationMs: 12, at },
    });
    applyRunEvent(state, completion('2030-01-01T00:00:03.000Z', 100));
    applyRunEvent(state, completion('2030-01-01T00:00:05.000Z', 200));
    const [recorded, old] = state.steps;
    expect(stepCall(recorded!)).toMatchObject({ source: 'recorded', provider: 'scripted', inputTokens: 10 });
    expect(stepCall(old!)).toMatchObject({ source: 'live', provider: 'openai', model: 'gpt-x', inputTokens: 200, usd: 0.01, priced: true, durationMs: 12 });
  });

  it('keeps Orion’s completions apart, merges escalations, and ends on run.finished', () => {
    const state = createRunState(run);
    applyRunEvent(state, { name: 'llm.completed', data: { runId: 'r1', intent: 'plan', at: '2030-01-01T00:00:01.000Z' } });
    expect(state.orionCompletions).toHaveLength(1);
    applyRunEvent(state, { name: 'escalation.raised', data: { runId: 'r1', escalationId: 'e1', subtaskId: 's1', attempt: 1, reason: 'tests_failed', summary: 'red', at: 'x' } });
    applyRunEvent(state, { name: 'escalation.decided', data: { runId: 'r1', escalationId: 'e1', subtaskId: 's1', attempt: 1, decision: 'hint', reason: 'try again', hint: 'fix the sign', at: 'y' } });
    expect(state.escalations.get('e1')).toMatchObject({ reason: 'tests_failed', decisionReason: 'try again', summary: 'red', decision: 'hint', hint: 'fix the sign', at: 'x' });
    const end = applyRunEvent(state, { name: 'run.finished', data: { runId: 'r1', status: 'failed', state: 'failed', error: { code: 'X', message: 'boom' } } });
    expect(end.finished).toBe(true);
    expect(state).toMatchObject({ status: 'failed', state: 'failed', error: { code: 'X', message: 'boom' } });
  });
});
