import type { WorkStepEvent } from '@maestro/contracts';
import { stepMessageId } from './step-message-id.js';

const step: WorkStepEvent = {
  taskId: 't-1',
  runId: 'r-1',
  subtaskId: 's-1',
  executorId: 'e-1',
  attempt: 2,
  step: 3,
  kind: 'model',
  summary: 'thinking',
  ok: true,
  at: '2026-01-01T00:00:00.000Z',
};

describe('stepMessageId', () => {
  it('is the same for two copies of one step, whatever the summary says', () => {
    expect(stepMessageId({ ...step })).toBe(stepMessageId({ ...step, summary: 'other' } as WorkStepEvent));
  });

  it('tells apart steps that differ in any part of their identity', () => {
    const ids = new Set([
      stepMessageId(step),
      stepMessageId({ ...step, step: 4 }),
      stepMessageId({ ...step, attempt: 3 }),
      stepMessageId({ ...step, executorId: 'e-2' }),
      stepMessageId({ ...step, at: '2026-01-01T00:00:00.001Z' }),
      stepMessageId({ ...step, subtaskId: 's-2' }),
      // Separators inside ids cannot make two identities collide.
      stepMessageId({ ...step, taskId: 't-1","s-1', subtaskId: '' }),
    ]);
    expect(ids.size).toBe(7);
  });
});
