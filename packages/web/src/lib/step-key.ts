/**
 * A step's identity, the same the gateway de-duplicates by: (subtask, executor, step number,
 * time as an instant). An executor that runs a subtask again numbers its steps from the start,
 * so the number alone is not enough. The key is also the step's part of a deep link.
 */
import type { AgentStep } from '../api/types';

/** The milliseconds of a step's time; NaN when it has none. */
export function stepTimeMs(step: Pick<AgentStep, 'at'>): number {
  return step.at ? Date.parse(step.at) : Number.NaN;
}

/** `s1~executor-1~3~1893553445678`: URL-safe as long as the ids are (they are: letters, digits, `._:-`). */
export function stepKey(step: Pick<AgentStep, 'subtaskId' | 'executorId' | 'step' | 'at'>): string {
  const at = stepTimeMs(step);
  return `${step.subtaskId}~${step.executorId}~${step.step}~${Number.isNaN(at) ? 'x' : at}`;
}

/** Orders steps by time, then subtask, executor and number (the orchestrator's order). */
export function compareSteps(a: AgentStep, b: AgentStep): number {
  const ta = stepTimeMs(a);
  const tb = stepTimeMs(b);
  if (ta !== tb) return (Number.isNaN(ta) ? 0 : ta) - (Number.isNaN(tb) ? 0 : tb);
  if (a.subtaskId !== b.subtaskId) return a.subtaskId < b.subtaskId ? -1 : 1;
  if (a.executorId !== b.executorId) return a.executorId < b.executorId ? -1 : 1;
  return a.step - b.step;
}
