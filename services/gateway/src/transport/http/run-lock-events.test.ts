import type { BusEvent } from '../../ports.js';
import { isLockEventOfTask } from './run-lock-events.js';

const taskId = '3f6c2a9e-8d1b-4c57-9a0e-2b7d5f1c4e88';
const otherTaskId = '9b1e4d77-0c3a-4f2e-8a61-5d9c0b2e7f13';
const acquired = (owner: unknown): BusEvent => ({ subject: 'maestro.events.lock.acquired', payload: { owner, concerns: ['file:/repo/a.ts'] } });

describe('isLockEventOfTask', () => {
  it("keeps the events of the task's subtasks, whichever executor holds them", () => {
    expect(isLockEventOfTask(acquired(`executor:e1:${taskId}:s1`), taskId)).toBe(true);
    expect(isLockEventOfTask(acquired(`executor:e2:${taskId}:s7`), taskId)).toBe(true);
  });

  it("drops another task's subtask of the same name", () => {
    expect(isLockEventOfTask(acquired(`executor:e1:${otherTaskId}:s1`), taskId)).toBe(false);
  });

  it('drops owners that name no task: a person, an executor from before owners named their task, no owner at all', () => {
    expect(isLockEventOfTask(acquired('cli:alice'), taskId)).toBe(false);
    expect(isLockEventOfTask(acquired('executor:e1:s1'), taskId)).toBe(false);
    expect(isLockEventOfTask(acquired(undefined), taskId)).toBe(false);
  });
});
