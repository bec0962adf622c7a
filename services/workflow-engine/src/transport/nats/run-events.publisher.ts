/**
 * Publishes what the engine decided over JetStream: activity requests as work on
 * `maestro.work.<queue>.<activity>` and facts on `maestro.events.run.*` /
 * `maestro.events.activity.requested`. Both wait for the stream's ack and throw when it does
 * not come, so the engine's effect queue can retry; message ids make retries harmless.
 */
import { ActivityRequestSchema, Subjects, type ActivityRequest, type ActivityRequestedEvent, type RunEvent, type WorkQueue } from '@maestro/contracts';
import type { Bus } from '@maestro/bus';
import type { RunEventsPublisher } from '../../run-events-publisher.js';

/** The engine's publisher over a {@link Bus}. */
export class NatsRunEventsPublisher implements RunEventsPublisher {
  constructor(private readonly bus: Pick<Bus, 'publish'>) {}

  async publishActivityRequest(queue: WorkQueue, request: ActivityRequest): Promise<void> {
    // Parsing our own payload catches a contract drift here rather than in every consumer.
    const payload = ActivityRequestSchema.parse(request);
    await this.bus.publish(Subjects.activityRequest(queue, payload.activity), payload, { msgId: payload.workId });
  }

  async publishEvent(subject: string, payload: RunEvent | ActivityRequestedEvent, msgId: string): Promise<void> {
    await this.bus.publish(subject, payload, { msgId });
  }
}
