/**
 * The `Nats-Msg-Id` of a `work.step` event: the step's identity (the same fields Orion keys a
 * stored step on: task, subtask, executor, the step's time and number, plus the attempt), so a
 * step the outbox publishes again after a lost ack is stored once by the events stream.
 */
import type { WorkStepEvent } from '@maestro/contracts';

/** The deterministic message id of a step event; equal for two copies of one step, different for any two steps. */
export function stepMessageId(event: Pick<WorkStepEvent, 'taskId' | 'subtaskId' | 'executorId' | 'attempt' | 'at' | 'step'>): string {
  // JSON keeps the parts apart whatever characters the ids hold.
  return `step:${JSON.stringify([event.taskId, event.subtaskId, event.attempt ?? 0, event.executorId, event.at, event.step])}`;
}
