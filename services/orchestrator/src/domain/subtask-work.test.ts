import { subtaskRecord, taskRecord } from '../../test/task-records.js';
import { toWork } from './subtask-work.js';

describe('toWork', () => {
  it('carries the declared concerns, the task branch and the baseline failures preflight found', () => {
    const task = taskRecord({ id: 'task-1', baselineFailures: ['divide refuses zero'], baselineExitCode: 1 });
    const subtask = subtaskRecord('s1', { concerns: ['file:/repo/src/a.ts'] });
    expect(toWork(task, subtask, 'run-1', 2)).toMatchObject({
      workId: 'task-1:s1:2',
      concerns: ['file:/repo/src/a.ts'],
      taskBranch: 'maestro/task-1',
      baselineFailures: ['divide refuses zero'],
      baselineExitCode: 1,
    });
  });

  it("carries the task's tenant, so the executor recalls within it", () => {
    expect(toWork(taskRecord({ tenant: 'acme' }), subtaskRecord('s1'), 'run-1', 1).tenant).toBe('acme');
  });

  it("carries the task's memory scopes, so the executor recalls those users' and teams' preferences too", () => {
    const task = taskRecord({ memoryScopes: ['user:alice', 'team:platform'] });
    expect(toWork(task, subtaskRecord('s1'), 'run-1', 1).memoryScopes).toEqual(['user:alice', 'team:platform']);
  });

  it('leaves out what there is none of: no concerns, no baseline (not run, or nothing failed)', () => {
    for (const baselineFailures of [null, []]) {
      const work = toWork(taskRecord({ baselineFailures }), subtaskRecord('s1', { concerns: [] }), 'run-1', 1);
      expect(work).not.toHaveProperty('concerns');
      expect(work).not.toHaveProperty('baselineFailures');
      expect(work).not.toHaveProperty('baselineExitCode');
      // A task that names no scopes: the executor recalls the project's memories only.
      expect(work).not.toHaveProperty('memoryScopes');
    }
  });
});
