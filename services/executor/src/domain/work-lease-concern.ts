/**
 * The lock-manager concern of one work item's attempts: `resource:work/<task>/<subtask>`, each
 * id made safe for a resource name by `toSafeSegment`. Pure.
 */
import type { SubtaskWork } from '@maestro/contracts';
import { toSafeSegment } from './worktree-layout.js';

/** The concern an attempt holds for its whole run, so two attempts of one subtask never run at once. */
export function workLeaseConcern(work: Pick<SubtaskWork, 'taskId' | 'subtaskId'>): string {
  return `resource:work/${toSafeSegment(work.taskId)}/${toSafeSegment(work.subtaskId)}`;
}
