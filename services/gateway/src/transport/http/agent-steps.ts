/**
 * A run's recorded agent steps, read from the orchestrator (ListAgentSteps) for the run views,
 * and the identity by which a replayed step and its live `work.step` event are known to be one.
 */
import type { AgentStep } from '@maestro/contracts';
import type { OrchestratorApi } from '../../ports.js';

/** How many steps the run views read. */
export const StepReadLimits = {
  /** One ListAgentSteps page: the orchestrator's largest. */
  pageSize: 1000,
  /** `GET /v1/runs/:id` shows one page; the rest is paged with `/v1/tasks/:id/steps`. */
  runSteps: 1000,
  /** An event stream replays at most this many recorded steps (ten pages), then goes live. */
  streamSteps: 10_000,
} as const;

/** Recorded steps of a run, oldest first; `nextAfter` is set when more remain than were read. */
export interface RunSteps {
  steps: AgentStep[];
  nextAfter: string;
}

/** Reads up to `maxSteps` recorded steps of `runId` for `tenant`, page by page. Throws what the orchestrator throws. */
export async function readRunSteps(
  orchestrator: Pick<OrchestratorApi, 'listAgentSteps'>,
  tenant: string,
  runId: string,
  maxSteps: number,
): Promise<RunSteps> {
  const steps: AgentStep[] = [];
  let after = '';
  while (steps.length < maxSteps) {
    const limit = Math.min(StepReadLimits.pageSize, maxSteps - steps.length);
    const page = await orchestrator.listAgentSteps({ tenant, taskId: '', runId, subtaskId: '', limit, after });
    steps.push(...page.steps);
    after = page.nextAfter;
    if (after === '') break;
  }
  return { steps, nextAfter: after };
}

/**
 * The identity of a step within a run: subtask, executor, step number and the step's time.
 * The time is part of it because an executor numbers a subtask's steps from the start every
 * time it runs the subtask (a hand-back redelivered to the same executor), so without it a
 * second run's live steps would be taken for the first run's replayed ones. Times are compared
 * as instants (the orchestrator's ISO form and the executor's may differ in spelling).
 * Undefined for a payload that is not a step.
 */
export function stepIdentity(payload: Readonly<Record<string, unknown>>): string | undefined {
  const { subtaskId, executorId, step, at } = payload;
  if (typeof subtaskId !== 'string' || typeof executorId !== 'string' || typeof step !== 'number') return undefined;
  const millis = typeof at === 'string' ? Date.parse(at) : Number.NaN;
  const when = Number.isNaN(millis) ? String(at) : String(millis);
  return JSON.stringify([subtaskId, executorId, step, when]);
}
