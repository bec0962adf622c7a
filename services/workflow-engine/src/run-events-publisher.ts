/**
 * The port the engine publishes through (implemented over NATS by `NatsRunEventsPublisher`):
 * work for activities and facts about runs, each with a deterministic message id.
 */
import type { ActivityRequest, ActivityRequestedEvent, RunEvent, WorkQueue } from '@maestro/contracts';

/** Where the engine publishes. */
export interface RunEventsPublisher {
  /** Work on `maestro.work.<queue>.<activity>`, message id = workId. Throws when not stored. */
  publishActivityRequest(queue: WorkQueue, request: ActivityRequest): Promise<void>;
  /** A fact on `maestro.events.…` with a deterministic message id. Throws when not stored. */
  publishEvent(subject: string, payload: RunEvent | ActivityRequestedEvent, msgId: string): Promise<void>;
}
