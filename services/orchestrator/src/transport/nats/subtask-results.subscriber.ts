/**
 * The durable consumer of `maestro.results.subtask`: executors' subtask results.
 */
import { Consumers, Streams, Subjects, SubtaskResultSchema } from '@maestro/contracts';
import type { Bus, WorkConsumer } from '@maestro/bus';
import { recordSubtaskResult, type SubtaskResultDeps } from '../../app/record-subtask-result.js';
import { ORCHESTRATOR_CONSUMER_MAX_DELIVER, orchestratorConsumerBackoffMs } from './run-events.subscriber.js';

/** Starts consuming subtask results. Several at once is safe: each locks its task row. */
export function subscribeSubtaskResults(
  bus: Pick<Bus, 'consume'>,
  deps: SubtaskResultDeps,
  options: { concurrency?: number } = {},
): Promise<WorkConsumer> {
  return bus.consume({
    stream: Streams.results.name,
    durable: Consumers.orchestratorSubtaskResults,
    filterSubject: Subjects.subtaskResult,
    schema: SubtaskResultSchema,
    concurrency: options.concurrency ?? 4,
    // A database blip of minutes must not drop a result (its subtask would never finish).
    maxDeliver: ORCHESTRATOR_CONSUMER_MAX_DELIVER,
    backoffMs: orchestratorConsumerBackoffMs,
    handler: async (result, delivery) => {
      await recordSubtaskResult(result, deps, delivery.logger);
    },
  });
}
