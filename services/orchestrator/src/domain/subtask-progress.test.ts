import { codeRef as code, subtaskRecord as subtask, taskRecord as task } from '../../test/task-records.js';
import { buildCodeActivityResult, decideSubtaskResult, planCodeDispatch, planNextDispatch, unacknowledgedAttempts } from './subtask-progress.js';


describe('decideSubtaskResult', () => {
  const result = { runId: 'run-1', subtaskId: 's1', attempt: 1, ok: true };

  it('records a result as succeeded or failed', () => {
    expect(decideSubtaskResult(task(), [subtask('s1'), subtask('s2')], result)).toEqual({ action: 'record', status: 'succeeded' });
    expect(decideSubtaskResult(task(), [subtask('s1')], { ...result, ok: false })).toEqual({ action: 'record', status: 'failed' });
  });

  it('ignores duplicates, stale attempts, other runs, unknown subtasks and subtasks waiting for their next attempt', () => {
    expect(decideSubtaskResult(task(), [subtask('s1', { status: 'succeeded' })], result).action).toBe('ignore');
    expect(decideSubtaskResult(task(), [subtask('s1', { attempt: 2 })], result).action).toBe('ignore');
    expect(decideSubtaskResult(task(), [subtask('s1')], { ...result, runId: 'run-0' }).action).toBe('ignore');
    expect(decideSubtaskResult(task(), [subtask('s2')], result).action).toBe('ignore');
    expect(decideSubtaskResult(task({ code: null }), [subtask('s1')], result).action).toBe('ignore');
    // A new attempt of the code state put it back to waiting: the old attempt's result is stale.
    expect(decideSubtaskResult(task(), [subtask('s1', { status: 'pending' })], result)).toMatchObject({ action: 'ignore', reason: expect.stringContaining('superseded') });
  });
});

describe('planCodeDispatch', () => {
  const fresh = { status: 'pending', attempt: 0, dispatchedAttempt: null, dispatchedAt: null } as const;

  it('dispatches every never-dispatched subtask as attempt 1 when nothing conflicts', () => {
    const plan = planCodeDispatch(task({ code: null }), [subtask('s1', fresh), subtask('s2', { ...fresh, position: 1 })], code);
    expect(plan).toMatchObject({
      resets: [],
      republish: [],
      dispatches: [
        { subtaskId: 's1', attempt: 1, isNew: true },
        { subtaskId: 's2', attempt: 1, isNew: true },
      ],
      fails: [],
      allFinal: false,
    });
  });

  it('dispatches only the first of two subtasks on the same file', () => {
    const file = { ...fresh, concerns: ['file:/r/src/a.js'] };
    const plan = planCodeDispatch(task({ code: null }), [subtask('s1', file), subtask('s2', { ...file, position: 1 })], code);
    expect(plan.dispatches).toEqual([{ subtaskId: 's1', attempt: 1, isNew: true }]);
    expect(plan.waiting).toEqual([{ subtaskId: 's2', reason: 'waits for s1 (running): file:/r/src/a.js conflicts with file:/r/src/a.js' }]);
  });

  it('republishes, on a repeated request, only unfinished attempts the stream never acknowledged', () => {
    const plan = planCodeDispatch(
      task(),
      [subtask('s1', { status: 'succeeded' }), subtask('s2', { dispatchedAttempt: null, dispatchedAt: null }), subtask('s3')],
      code,
    );
    expect(plan).toMatchObject({ republish: [{ subtaskId: 's2', attempt: 1, isNew: false }], dispatches: [], allFinal: false });
  });

  it('publishes nothing on a repeated request when every running attempt was dispatched', () => {
    // An engine restart republishes the code request; the subtasks are with executors.
    const plan = planCodeDispatch(task(), [subtask('s1'), subtask('s2', { status: 'succeeded' })], code);
    expect(plan).toMatchObject({ republish: [], dispatches: [], allFinal: false });
  });

  it('starts, on a repeated request, what the scheduler allows and nothing it started already', () => {
    const file = { concerns: ['file:/r/a.js'] };
    const subtasks = [subtask('s1', { ...file, status: 'succeeded' }), subtask('s2', { ...file, ...fresh, position: 1 })];
    expect(planCodeDispatch(task(), subtasks, code).dispatches).toEqual([{ subtaskId: 's2', attempt: 1, isNew: true }]);
  });

  it('republishes a retried subtask whose new attempt was recorded but not dispatched', () => {
    const retry = { ...code, workId: 'run-1:code:2', attempt: 2 };
    const plan = planCodeDispatch(task({ code: retry }), [subtask('s1', { attempt: 2, dispatchedAttempt: 1 })], retry);
    expect(plan.republish).toEqual([{ subtaskId: 's1', attempt: 2, isNew: false }]);
  });

  it('retries only the subtasks that did not succeed on a new attempt of the state', () => {
    const retry = { ...code, workId: 'run-1:code:2', attempt: 2 };
    const plan = planCodeDispatch(task(), [subtask('s1', { status: 'succeeded' }), subtask('s2', { status: 'failed', position: 1 })], retry);
    expect(plan.resets).toEqual(['s2']);
    expect(plan.dispatches).toEqual([{ subtaskId: 's2', attempt: 2, isNew: true }]);
    expect(plan.allFinal).toBe(false);
  });

  it('reports all final when every subtask already succeeded', () => {
    const retry = { ...code, workId: 'run-1:code:2', attempt: 2 };
    expect(planCodeDispatch(task(), [subtask('s1', { status: 'succeeded' })], retry)).toMatchObject({ dispatches: [], allFinal: true });
  });
});

describe('planNextDispatch', () => {
  it('starts what waited for a subtask once its result is recorded, and nothing twice when run again', () => {
    const file = { concerns: ['file:/r/a.js'] };
    const waiting = { status: 'pending', attempt: 0, dispatchedAttempt: null, dispatchedAt: null } as const;
    const afterResult = [subtask('s1', { ...file, status: 'succeeded' }), subtask('s2', { ...file, ...waiting, position: 1 })];
    expect(planNextDispatch(afterResult).dispatches).toEqual([{ subtaskId: 's2', attempt: 1, isNew: true }]);
    // The dispatch recorded, a redelivered result runs the scheduler over the same state: nothing new.
    const recorded = afterResult.map((s) => (s.id === 's2' ? { ...s, status: 'running' as const, attempt: 1 } : s));
    expect(planNextDispatch(recorded)).toMatchObject({ dispatches: [], fails: [], allFinal: false });
  });

  it('is all final when the last failure fails the subtasks that depended on it', () => {
    const subtasks = [subtask('s1', { status: 'failed' }), subtask('s2', { status: 'pending', attempt: 0, dependsOn: ['s1'], position: 1 })];
    expect(planNextDispatch(subtasks)).toMatchObject({
      dispatches: [],
      fails: [{ subtaskId: 's2', reason: 'not run: it depends on s1, which failed' }],
      allFinal: true,
    });
  });
});

describe('unacknowledgedAttempts', () => {
  it('lists running attempts the stream has not acknowledged', () => {
    expect(
      unacknowledgedAttempts([subtask('s1'), subtask('s2', { attempt: 2 }), subtask('s3', { status: 'pending', dispatchedAttempt: null })]),
    ).toEqual([{ subtaskId: 's2', attempt: 2, isNew: false }]);
  });
});

describe('buildCodeActivityResult', () => {
  it('is ok when every subtask succeeded', () => {
    const result = buildCodeActivityResult(code, [subtask('s1', { status: 'succeeded', commitSha: 'abc' })], '2024-01-01T00:00:00.000Z');
    expect(result).toMatchObject({ workId: code.workId, runId: 'run-1', state: 'code', attempt: 1, ok: true });
    expect(result.error).toBeUndefined();
    expect(result.output).toEqual({
      subtasks: [{ id: 's1', title: 'title s1', status: 'succeeded', attempt: 1, summary: '', commitSha: 'abc', filesChanged: [] }],
    });
  });

  it('lists every failure when a subtask failed', () => {
    const result = buildCodeActivityResult(
      code,
      [subtask('s1', { status: 'succeeded' }), subtask('s2', { status: 'failed', failureReason: 'tests red after 3 tries' })],
      '2024-01-01T00:00:00.000Z',
    );
    expect(result.ok).toBe(false);
    expect(result.error).toEqual({ code: 'SUBTASKS_FAILED', message: '1 of 2 subtasks failed: s2 (title s2): tests red after 3 tries' });
  });
});

describe('subtasks a re-plan replaced', () => {
  it('are final: they neither hold up the fan-out, nor fail it, nor get dispatched again', () => {
    const subtasks = [subtask('s1', { status: 'replaced' }), subtask('s1.1'), subtask('s2', { status: 'succeeded' })];
    expect(decideSubtaskResult(task(), subtasks, { runId: 'run-1', subtaskId: 's1.1', attempt: 1, ok: true })).toMatchObject({ action: 'record' });
    const recorded = subtasks.map((s) => (s.id === 's1.1' ? { ...s, status: 'succeeded' as const } : s));
    expect(planNextDispatch(recorded).allFinal).toBe(true);
    const done = subtasks.map((s) => (s.id === 's1.1' ? { ...s, status: 'succeeded' as const } : s));
    expect(buildCodeActivityResult(code, done, 'now')).toMatchObject({ ok: true });
    const retry = planCodeDispatch(task(), [subtask('s1', { status: 'replaced' }), subtask('s1.1', { status: 'failed' })], { ...code, workId: 'run-1:code:2', attempt: 2 });
    expect(retry.dispatches).toEqual([{ subtaskId: 's1.1', attempt: 2, isNew: true }]);
    expect(retry.resets).toEqual(['s1.1']);
  });

  it('are left out of the failure count', () => {
    const result = buildCodeActivityResult(code, [subtask('s1', { status: 'replaced' }), subtask('s1.1', { status: 'failed', failureReason: 'red' })], 'now');
    expect(result.error).toEqual({ code: 'SUBTASKS_FAILED', message: '1 of 1 subtasks failed: s1.1 (title s1.1): red' });
  });
});
