/**
 * The durable consumer of `maestro.events.work.step` on the events stream: every step a
 * tactical agent took, recorded in the task's history. Several at once is safe: recording is
 * idempotent, and a task's steps commit in the order they are numbered (`seq`), which is the
 * order a follower of ListAgentSteps sees them.
 */
import { Consumers, Streams, Subjects, WorkStepEventSchema } from '@maestro/contracts';
import { TraceAttributes } from '@maestro/runtime';
import type { Bus, WorkConsumer } from '@maestro/bus';
import { recordAgentStep } from '../../app/agent-steps.js';
import type { AgentStepStore } from '../../store/agent-step-store.js';

/**
 * Name of the durable consumer. Declared here rather than in the contracts' `Consumers`
 * catalogue, which belongs to another package; it should move there.
 */
export const WORK_STEPS_CONSUMER = Consumers.orchestratorWorkSteps;

/** Starts consuming agent steps; a new durable consumer first records every step the stream still holds. */
export function subscribeWorkSteps(
  bus: Pick<Bus, 'consume'>,
  steps: AgentStepStore,
  options: { concurrency?: number } = {},
): Promise<WorkConsumer> {
  return bus.consume({
    stream: Streams.events.name,
    durable: WORK_STEPS_CONSUMER,
    filterSubject: Subjects.workStep,
    // Recorded steps are replayed to the task's tenant: a forged one is dead-lettered, never stored.
    authenticate: true,
    schema: WorkStepEventSchema,
    concurrency: options.concurrency ?? 4,
    // The consume span continues the step's publish (its traceparent), so it names the task too.
    spanAttributes: (event) => ({ [TraceAttributes.taskId]: event.taskId }),
    handler: async (event, delivery) => {
      await recordAgentStep(event, steps, delivery.logger);
    },
  });
}
