/**
 * The durable consumer of `maestro.work.orchestrator.>`: every activity request of the
 * workflows Orion serves. A request that keeps failing is dead-lettered by the bus and then
 * answered with a failed result, so its run does not wait forever.
 */
import { ActivityRequestSchema, Consumers, Streams, Subjects } from '@maestro/contracts';
import type { Bus, WorkConsumer } from '@maestro/bus';
import type { Logger } from '@maestro/runtime';
import { ACTIVITY_GAVE_UP, failedResultFor, runActivity, type ActivityRunnerDeps } from '../../app/activity-runner.js';

/** Options of the activity-request consumer. */
export interface ActivityRequestsOptions {
  /** Requests handled at once. @default 4 */
  concurrency?: number;
  /** Deliveries before a request is dead-lettered and failed. @default 5 */
  maxDeliver?: number;
  /** Aborted when requests in flight must be cut short and handed back (drain time is up). */
  signal?: AbortSignal;
}

/** Starts consuming activity requests. */
export function subscribeActivityRequests(
  bus: Pick<Bus, 'consume'>,
  deps: ActivityRunnerDeps,
  logger: Logger,
  options: ActivityRequestsOptions = {},
): Promise<WorkConsumer> {
  return bus.consume({
    stream: Streams.work.name,
    durable: Consumers.orchestratorWork,
    filterSubject: Subjects.workQueue('orchestrator'),
    schema: ActivityRequestSchema,
    concurrency: options.concurrency ?? 4,
    maxDeliver: options.maxDeliver ?? 5,
    handler: (request, delivery) => runActivity(request, deps, delivery.logger, options.signal),
    onDeadLetter: async (dead) => {
      const parsed = ActivityRequestSchema.safeParse(dead.payload);
      if (!parsed.success) return;
      logger.warn('activity request gave up', { workId: parsed.data.workId, reason: dead.reason });
      await deps.work.publishActivityResult(
        failedResultFor(parsed.data, { code: ACTIVITY_GAVE_UP, message: dead.reason }, new Date(deps.clock.now()).toISOString()),
      );
    },
  });
}
