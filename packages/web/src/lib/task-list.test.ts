import type { Task } from '../api/types';
import { applyLifecycleEvent, costOf, matchesFilter, startRunStatePrune } from './task-list';

function task(id: string, status: string, goal = 'add a flag'): Task {
  return { id, goal, repoPath: '/r', project: 'p', status, runId: `run-${id}`, subtasks: [], failureReason: '', reviewSummary: '', answer: '', workflow: '', escalations: [], createdAt: null, updatedAt: null };
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

  it('records the state of a listed task’s run, and asks for fresh costs when the run moves on', () => {
    const runStates = new Map<string, string>();
    const tasks = [task('a', 'running')];
    expect(applyLifecycleEvent(tasks, runStates, 'run.started', { runId: 'run-a', state: 'intake' })).toBe('changed');
    expect(applyLifecycleEvent(tasks, runStates, 'run.transitioned', { runId: 'run-a', state: 'code' })).toBe('costs');
    expect(runStates.get('run-a')).toBe('code');
    expect(applyLifecycleEvent(tasks, runStates, 'run.finished', { runId: 'run-a', state: 'done' })).toBe('costs');
    expect(runStates.get('run-a')).toBe('done');
  });

  it('keeps a new run’s state for the re-read it asks for, and ignores other runs the list does not show', () => {
    const runStates = new Map<string, string>();
    expect(applyLifecycleEvent([], runStates, 'run.started', { runId: 'run-x', state: 'intake' })).toBe('reload');
    expect(applyLifecycleEvent([], runStates, 'run.transitioned', { runId: 'run-x', state: 'plan' })).toBe('none');
    expect(runStates.get('run-x')).toBe('plan');
    expect(applyLifecycleEvent([], runStates, 'run.transitioned', { runId: 'run-y', state: 'code' })).toBe('none');
    expect(applyLifecycleEvent([], runStates, 'run.finished', { runId: 'run-z', state: 'done' })).toBe('none');
    expect([...runStates.keys()]).toEqual(['run-x']);
  });
});

describe('startRunStatePrune', () => {
  it('keeps only the runs the re-read list shows', () => {
    const runStates = new Map([['run-a', 'code'], ['run-gone', 'done'], ['run-x', 'intake']]);
    const prune = startRunStatePrune(runStates);
    prune([task('a', 'running'), task('b', 'pending')]);
    expect([...runStates.entries()]).toEqual([['run-a', 'code']]);
  });

  it('keeps a run first heard of while the read was in flight, for the next re-read to decide', () => {
    const runStates = new Map([['run-gone', 'done']]);
    const prune = startRunStatePrune(runStates);
    expect(applyLifecycleEvent([], runStates, 'run.started', { runId: 'run-new', state: 'intake' })).toBe('reload');
    prune([]);
    expect([...runStates.keys()]).toEqual(['run-new']);
    startRunStatePrune(runStates)([]);
    expect(runStates.size).toBe(0);
  });

  it('stays bounded however many runs a filtered list sees come and go', () => {
    const runStates = new Map<string, string>();
    const shown = [task('a', 'failed')];
    let largest = 0;
    for (let i = 0; i < 1000; i += 1) {
      const prune = startRunStatePrune(runStates);
      applyLifecycleEvent(shown, runStates, 'run.started', { runId: `run-${i}-new`, state: 'intake' });
      prune(shown);
      applyLifecycleEvent(shown, runStates, 'run.transitioned', { runId: `run-${i}-new`, state: 'code' });
      applyLifecycleEvent(shown, runStates, 'run.finished', { runId: `run-${i}-new`, state: 'done' });
      largest = Math.max(largest, runStates.size);
    }
    expect(largest).toBe(1);
    startRunStatePrune(runStates)(shown);
    expect(runStates.size).toBe(0);
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
