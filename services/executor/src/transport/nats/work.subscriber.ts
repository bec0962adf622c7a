/**
 * The executor's side of the work queue: one durable pull consumer, shared by every executor
 * replica, filtered on the executor queue. JetStream hands each message to one replica; each
 * replica takes at most `concurrency` at a time.
 */
import type { Bus, WorkConsumer } from '@maestro/bus';
import { Consumers, Streams, Subjects, SubtaskWorkSchema } from '@maestro/contracts';
import { TraceAttributes } from '@maestro/runtime';
import type { SubtaskWorker } from '../../work/subtask-worker.js';

/** Options for {@link startWorkSubscriber}. */
export interface WorkSubscriberOptions {
  concurrency: number;
  maxDeliver: number;
  ackWaitMs: number;
  /** Aborted when in-flight work must be handed back (shutdown past its drain timeout). */
  signal: AbortSignal;
}

/**
 * Starts consuming subtask work. A handler that throws an `OperationalError` has its message
 * nak'ed and redelivered; a dead-lettered message (malformed, or past `maxDeliver`) is
 * reported as a failed result by the worker.
 */
export function startWorkSubscriber(bus: Bus, worker: SubtaskWorker, options: WorkSubscriberOptions): Promise<WorkConsumer> {
  return bus.consume({
    stream: Streams.work.name,
    durable: Consumers.executorWork,
    filterSubject: Subjects.workQueue('executor'),
    schema: SubtaskWorkSchema,
    maxDeliver: options.maxDeliver,
    ackWaitMs: options.ackWaitMs,
    concurrency: options.concurrency,
    spanAttributes: (work) => ({ [TraceAttributes.taskId]: work.taskId }),
    handler: async (work, delivery) => {
      await worker.handle(work, { working: () => delivery.working(), signal: options.signal }, delivery.logger);
    },
    onDeadLetter: (deadLetter) => worker.handleDeadLetter(deadLetter.payload ?? deadLetter.raw, deadLetter.reason),
  });
}
