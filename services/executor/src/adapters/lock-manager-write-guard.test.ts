import { lockOwner } from './lock-manager-write-guard.js';

describe('lockOwner', () => {
  it('names the executor and the subtask, so an operator inspecting leases sees who holds what', () => {
    expect(lockOwner('exec-a', 'sub-1')).toBe('executor:exec-a:sub-1');
  });
});
