import type { Task } from '../api/types';
import { applyLifecycleEvent, costOf, matchesFilter } from './task-list';

function task(id: string, status: string, goal = 'add a flag'): Task {
  return { id, goal, repoPath: '/r', project: 'p', status, runId: `run-${id}`, subtasks: [], failureReason: '', reviewSummary: '', workflow: '', escalations: [], createdAt: null, updatedAt: null };
}

describe('matchesFilter', () => {
  it('filters by status and by goal words, ignoring case', () => {
    expect(matchesFilter(task('a', 'running', 'Add Subtract'), { status: '', q: 'subtract' })).toBe(true);
    expect(matchesFilter(task('a', 'running', 'Add Subtract'), { status: 'failed', q: '' })).toBe(false);
    expect(matchesFilter(task('a', 'running', 'Add Subtract'), { status: 'running', q: 'multiply' })).toBe(false);
  });
});

describe('applyLifecycleEvent', () => {
  it('changes a known task’s status in place and asks to reload (usage and filter may change)', () => {
    const tasks = [task('a', 'running')];
    expect(applyLifecycleEvent(tasks, new Map(), 'task.updated', { taskId: 'a', status: 'succeeded', at: 'z' })).toBe('reload');
    expect(tasks[0]).toMatchObject({ status: 'succeeded', updatedAt: 'z' });
    expect(applyLifecycleEvent(tasks, new Map(), 'task.updated', { taskId: 'a', status: 'succeeded' })).toBe('none');
  });

  it('asks to reload for a task it does not know', () => {
    expect(applyLifecycleEvent([], new Map(), 'task.updated', { taskId: 'b', status: 'pending' })).toBe('reload');
  });

  it('records the state of a known task’s run', () => {
    const runStates = new Map<string, string>();
    expect(applyLifecycleEvent([task('a', 'running')], runStates, 'run.transitioned', { runId: 'run-a', state: 'code' })).toBe('changed');
    expect(runStates.get('run-a')).toBe('code');
    expect(applyLifecycleEvent([], runStates, 'run.started', { runId: 'run-x', state: 'intake' })).toBe('reload');
  });
});

describe('costOf', () => {
  it('reads the short and the full usage, and null', () => {
    expect(costOf({ usage: { usd: 0.5, tokens: 10, unpriced: true } })).toEqual({ usd: 0.5, tokens: 10, unpriced: true });
    const totals = { calls: 1, inputTokens: 7, cachedInputTokens: 0, outputTokens: 3, reasoningTokens: 0, costUsd: 0.2, unpricedCalls: 0, scriptedCalls: 0 };
    expect(costOf({ usage: { total: totals, byPhase: [], byModel: [] } })).toEqual({ usd: 0.2, tokens: 10, unpriced: false });
    expect(costOf({ usage: null })).toEqual({ usd: null, tokens: null, unpriced: false });
  });
});
