/**
 * Publishes what the executor produces: subtask results on the results work queue (deduplicated
 * on workId, so a re-published result is stored once) and work events for watchers.
 */
import { Subjects, type SubtaskResult, type WorkFinishedEvent, type WorkStepEvent } from '@maestro/contracts';
import type { WorkPublisher } from '../../domain/ports.js';

/** The bus methods the publisher needs (a `Bus` from `@maestro/bus` has them). */
export interface BusPublishing {
  publish(subject: string, payload: unknown, options?: { msgId?: string }): Promise<void>;
  publishEvent(subject: string, payload: unknown): Promise<void>;
}

/** A {@link WorkPublisher} over the bus. */
export class BusWorkPublisher implements WorkPublisher {
  constructor(private readonly bus: BusPublishing) {}

  async publishResult(result: SubtaskResult): Promise<void> {
    // msgId = workId: JetStream drops a second copy inside its duplicate window.
    await this.bus.publish(Subjects.subtaskResult, result, { msgId: result.workId });
  }

  async publishStep(event: WorkStepEvent): Promise<void> {
    await this.bus.publishEvent(Subjects.workStep, event);
  }

  async publishFinished(event: WorkFinishedEvent): Promise<void> {
    await this.bus.publishEvent(Subjects.workFinished, event);
  }
}
