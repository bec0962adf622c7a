import { codeRef as code, subtaskRecord as subtask, taskRecord as task } from '../../test/task-records.js';
import { buildCodeActivityResult, decideSubtaskResult, planCodeDispatch } from './subtask-progress.js';


describe('decideSubtaskResult', () => {
  const result = { runId: 'run-1', subtaskId: 's1', attempt: 1, ok: true };

  it('records a result and says whether it completes the fan-out', () => {
    expect(decideSubtaskResult(task(), [subtask('s1'), subtask('s2')], result)).toEqual({
      action: 'record', status: 'succeeded', completesCode: false,
    });
    expect(decideSubtaskResult(task(), [subtask('s1'), subtask('s2', { status: 'failed' })], { ...result, ok: false })).toEqual({
      action: 'record', status: 'failed', completesCode: true,
    });
  });

  it('ignores duplicates, stale attempts, other runs and unknown subtasks', () => {
    expect(decideSubtaskResult(task(), [subtask('s1', { status: 'succeeded' })], result).action).toBe('ignore');
    expect(decideSubtaskResult(task(), [subtask('s1', { attempt: 2 })], result).action).toBe('ignore');
    expect(decideSubtaskResult(task(), [subtask('s1')], { ...result, runId: 'run-0' }).action).toBe('ignore');
    expect(decideSubtaskResult(task(), [subtask('s2')], result).action).toBe('ignore');
    expect(decideSubtaskResult(task({ code: null }), [subtask('s1')], result).action).toBe('ignore');
  });
});

describe('planCodeDispatch', () => {
  it('dispatches every never-dispatched subtask as attempt 1', () => {
    const fresh = { status: 'pending', attempt: 0, dispatchedAttempt: null, dispatchedAt: null } as const;
    const plan = planCodeDispatch(task({ code: null }), [subtask('s1', fresh), subtask('s2', fresh)], code);
    expect(plan).toEqual({
      dispatches: [
        { subtaskId: 's1', attempt: 1, isNew: true },
        { subtaskId: 's2', attempt: 1, isNew: true },
      ],
      allFinal: false,
    });
  });

  it('republishes, on a repeated request, only unfinished attempts the stream never acknowledged', () => {
    const plan = planCodeDispatch(
      task(),
      [subtask('s1', { status: 'succeeded' }), subtask('s2', { dispatchedAttempt: null, dispatchedAt: null }), subtask('s3')],
      code,
    );
    expect(plan).toEqual({ dispatches: [{ subtaskId: 's2', attempt: 1, isNew: false }], allFinal: false });
  });

  it('publishes nothing on a repeated request when every running attempt was dispatched', () => {
    // An engine restart republishes the code request; the subtasks are with executors.
    const plan = planCodeDispatch(task(), [subtask('s1'), subtask('s2', { status: 'succeeded' })], code);
    expect(plan).toEqual({ dispatches: [], allFinal: false });
  });

  it('republishes a retried subtask whose new attempt was recorded but not dispatched', () => {
    const retry = { ...code, workId: 'run-1:code:2', attempt: 2 };
    const plan = planCodeDispatch(task({ code: retry }), [subtask('s1', { attempt: 2, dispatchedAttempt: 1 })], retry);
    expect(plan.dispatches).toEqual([{ subtaskId: 's1', attempt: 2, isNew: false }]);
  });

  it('retries only the subtasks that did not succeed on a new attempt of the state', () => {
    const retry = { ...code, workId: 'run-1:code:2', attempt: 2 };
    const plan = planCodeDispatch(task(), [subtask('s1', { status: 'succeeded' }), subtask('s2', { status: 'failed' })], retry);
    expect(plan.dispatches).toEqual([{ subtaskId: 's2', attempt: 2, isNew: true }]);
    expect(plan.allFinal).toBe(false);
  });

  it('reports all final when every subtask already succeeded', () => {
    const retry = { ...code, workId: 'run-1:code:2', attempt: 2 };
    expect(planCodeDispatch(task(), [subtask('s1', { status: 'succeeded' })], retry)).toEqual({ dispatches: [], allFinal: true });
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
    expect(decideSubtaskResult(task(), subtasks, { runId: 'run-1', subtaskId: 's1.1', attempt: 1, ok: true })).toMatchObject({ completesCode: true });
    const done = subtasks.map((s) => (s.id === 's1.1' ? { ...s, status: 'succeeded' as const } : s));
    expect(buildCodeActivityResult(code, done, 'now')).toMatchObject({ ok: true });
    const retry = planCodeDispatch(task(), [subtask('s1', { status: 'replaced' }), subtask('s1.1', { status: 'failed' })], { ...code, workId: 'run-1:code:2', attempt: 2 });
    expect(retry.dispatches).toEqual([{ subtaskId: 's1.1', attempt: 2, isNew: true }]);
  });

  it('are left out of the failure count', () => {
    const result = buildCodeActivityResult(code, [subtask('s1', { status: 'replaced' }), subtask('s1.1', { status: 'failed', failureReason: 'red' })], 'now');
    expect(result.error).toEqual({ code: 'SUBTASKS_FAILED', message: '1 of 1 subtasks failed: s1.1 (title s1.1): red' });
  });
});
