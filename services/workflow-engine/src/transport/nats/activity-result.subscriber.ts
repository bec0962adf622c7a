/**
 * Consumes activity results (`maestro.results.activity`) through the engine's durable
 * consumer and applies each to its run. Results live in JetStream until acked, so results
 * that arrive while the engine is down are applied when it comes back.
 */
import { ActivityResultSchema, Consumers, Streams, Subjects } from '@maestro/contracts';
import type { Bus, WorkConsumer } from '@maestro/bus';
import type { WorkflowEngine } from '../../engine.js';

/** Options of {@link startActivityResultSubscriber}. */
export interface ActivityResultSubscriberOptions {
  /** Results applied at once by this process. @default 4 */
  concurrency?: number;
  /** Deliveries before a result that keeps failing is dead-lettered. @default 10 */
  maxDeliver?: number;
}

/**
 * Starts the durable consumer. Stale and unknown-run results are acked and ignored (the engine
 * logs why); a database outage throws OperationalError and the result is redelivered.
 */
export async function startActivityResultSubscriber(
  bus: Pick<Bus, 'consume'>,
  engine: Pick<WorkflowEngine, 'applyActivityResult'>,
  options: ActivityResultSubscriberOptions = {},
): Promise<WorkConsumer> {
  return bus.consume({
    stream: Streams.results.name,
    durable: Consumers.engineActivityResults,
    filterSubject: Subjects.activityResult,
    schema: ActivityResultSchema,
    concurrency: options.concurrency ?? 4,
    maxDeliver: options.maxDeliver ?? 10,
    handler: async (result, delivery) => {
      const outcome = await engine.applyActivityResult(result);
      delivery.logger.debug('activity result handled', { runId: result.runId, workId: result.workId, applied: outcome.applied });
    },
  });
}
