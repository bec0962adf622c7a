/**
 * `TaskEvents` on the bus: `maestro.events.task.updated` for the gateway's live views.
 */
import { Subjects, type TaskEvent } from '@maestro/contracts';
import type { Bus } from '@maestro/bus';
import type { Clock } from '@maestro/runtime';
import type { TaskEvents } from '../../domain/ports.js';
import type { TaskRecord } from '../../domain/task.js';

/** Publishes task status changes as events (best-effort: a failure is logged by the bus). */
export class BusTaskEvents implements TaskEvents {
  constructor(
    private readonly bus: Pick<Bus, 'publishEvent'>,
    private readonly clock: Clock,
  ) {}

  async updated(task: TaskRecord, reason?: string): Promise<void> {
    const why = reason ?? task.failureReason ?? undefined;
    const event: TaskEvent = {
      taskId: task.id,
      tenant: task.tenant,
      ...(task.runId ? { runId: task.runId } : {}),
      status: task.status,
      ...(why ? { reason: why } : {}),
      at: new Date(this.clock.now()).toISOString(),
    };
    await this.bus.publishEvent(Subjects.taskUpdated, event);
  }
}
