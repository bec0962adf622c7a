/**
 * Publishes what the executor produces: subtask results on the results work queue and
 * escalations on `maestro.escalations.<taskId>` (both stored and acknowledged by their stream,
 * deduplicated on the work id, so a re-published outcome is stored once), agent steps (acked by
 * the events stream and deduplicated on the step's identity: the step outbox retries them until
 * stored) and the `work.finished` event for watchers (published without waiting for the ack).
 */
import { Subjects, type Escalation, type SubtaskResult, type WorkFinishedEvent, type WorkStepEvent } from '@maestro/contracts';
import type { WorkPublisher } from '../../domain/ports.js';
import { stepMessageId } from '../../domain/step-message-id.js';

/** The bus members the publisher needs (a `Bus` from `@maestro/bus` has them). */
export interface BusPublishing {
  publish(subject: string, payload: unknown, options?: { msgId?: string }): Promise<void>;
  /** A core-NATS publish nobody waits on, redacted and signed like `publish`. */
  publishLive(subject: string, payload: unknown): void;
}

/** A {@link WorkPublisher} over the bus. */
export class BusWorkPublisher implements WorkPublisher {
  constructor(private readonly bus: BusPublishing) {}

  async publishResult(result: SubtaskResult): Promise<void> {
    // msgId = workId: JetStream drops a second copy inside its duplicate window.
    await this.bus.publish(Subjects.subtaskResult, result, { msgId: result.workId });
  }

  async publishEscalation(escalation: Escalation): Promise<void> {
    await this.bus.publish(Subjects.escalation(escalation.taskId), escalation, { msgId: escalation.escalationId });
  }

  async publishStep(event: WorkStepEvent): Promise<void> {
    // Waits for the stream's ack, so a step lost to a NATS restart throws and is retried.
    await this.bus.publish(Subjects.workStep, event, { msgId: stepMessageId(event) });
  }

  async publishFinished(event: WorkFinishedEvent): Promise<void> {
    this.emit(Subjects.workFinished, event);
  }

  /**
   * The `work.finished` event is for live watchers (the result is the record), so the executor
   * does not wait for the events stream's ack. Throws only when the connection is closed.
   */
  private emit(subject: string, event: unknown): void {
    // Signed like every publish: the subscribers of a signed bus drop what is not.
    this.bus.publishLive(subject, event);
  }
}
