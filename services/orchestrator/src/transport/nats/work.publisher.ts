/**
 * `WorkPublisher` on the bus: activity results to `maestro.results.activity` and coding
 * subtasks to `maestro.work.executor.code`, each with its workId as the JetStream message id so
 * a republish inside the duplicate window is dropped by the server.
 */
import { ActivityResultSchema, Subjects, SubtaskWorkSchema, type ActivityResult, type SubtaskWork } from '@maestro/contracts';
import type { Bus } from '@maestro/bus';
import type { WorkPublisher } from '../../domain/ports.js';

/** Publishes Orion's work and results through a connected bus. */
export class BusWorkPublisher implements WorkPublisher {
  constructor(private readonly bus: Pick<Bus, 'publish'>) {}

  async publishActivityResult(result: ActivityResult): Promise<void> {
    // Parsing here catches a malformed result before the engine would dead-letter it.
    const payload = ActivityResultSchema.parse(result);
    await this.bus.publish(Subjects.activityResult, payload, { msgId: payload.workId });
  }

  async publishSubtaskWork(work: SubtaskWork): Promise<void> {
    const payload = SubtaskWorkSchema.parse(work);
    await this.bus.publish(Subjects.subtaskWork, payload, { msgId: payload.workId });
  }
}
