/**
 * The run's history of agent steps: recording each `maestro.events.work.step` event (idempotent,
 * steps of unknown tasks dropped) and listing them page by page for ListAgentSteps.
 */
import type { WorkStepEvent } from '@maestro/contracts';
import { notFound, type Logger } from '@maestro/runtime';
import {
  encodeStepCursor,
  toAgentStepRecord,
  validateAgentStepQuery,
  type AgentStepListInput,
  type StoredAgentStep,
} from '../domain/agent-step.js';
import type { AgentStepStore, StepRecordOutcome } from '../store/agent-step-store.js';

/**
 * Records one step event. A step of a task this orchestrator does not know (probe work has
 * none) is dropped with a debug line, so the consumer acks it; so is a second copy.
 */
export async function recordAgentStep(event: WorkStepEvent, steps: AgentStepStore, logger: Logger): Promise<StepRecordOutcome> {
  const record = toAgentStepRecord(event);
  const outcome = await steps.record(record);
  // Who runs the subtask shows while it runs, not only once its result arrives.
  if (outcome === 'recorded') await steps.noteSubtaskExecutor(record);
  const fields = { taskId: event.taskId, subtaskId: event.subtaskId, executorId: event.executorId, step: event.step };
  if (outcome === 'unknown-task') logger.debug('agent step of an unknown task dropped', fields);
  else if (outcome === 'duplicate') logger.debug('agent step already recorded', fields);
  else logger.debug('agent step recorded', fields);
  return outcome;
}

/** One page of steps and the cursor of the next page ('' when this page holds the last steps). */
export interface AgentStepPage {
  steps: StoredAgentStep[];
  nextAfter: string;
}

/** ListAgentSteps: validates the request and reads one page. */
export class AgentStepService {
  constructor(private readonly steps: AgentStepStore) {}

  /**
   * The steps of a task (NOT_FOUND for an unknown task) or of a run (empty for a run that is
   * no task's, or has no steps yet: the run belongs to the workflow-engine, which Orion does not
   * ask), in the order Orion stored them. With `tenant` (a tenant name), another tenant's task
   * is NOT_FOUND and another tenant's run has no steps, exactly as if unknown.
   */
  async list(input: AgentStepListInput, tenant?: string): Promise<AgentStepPage> {
    const query = validateAgentStepQuery(input);
    if (query.taskId !== undefined && !(await this.steps.taskExists(query.taskId, tenant))) {
      throw notFound('task', query.taskId, 'TASK_NOT_FOUND');
    }
    // One more than asked for says whether another page exists, without a count.
    const rows = await this.steps.list({ ...query, ...(tenant !== undefined ? { tenant } : {}), limit: query.limit + 1 });
    const steps = rows.slice(0, query.limit);
    const last = steps.at(-1);
    return { steps, nextAfter: rows.length > query.limit && last ? encodeStepCursor(last) : '' };
  }
}
