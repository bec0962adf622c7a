/**
 * The executor's ear on task status changes: a live (non-durable) subscription to
 * `maestro.events.task.updated` that records tasks reaching a final status in {@link EndedTasks}.
 */
import type { Bus, LiveSubscription } from '@maestro/bus';
import { Subjects, TaskEventSchema } from '@maestro/contracts';
import type { Logger } from '@maestro/runtime';
import type { EndedTasks } from '../../domain/ended-tasks.js';

/**
 * Subscribes to task updates and feeds `endedTasks`; resolves once the server has the
 * subscription, so events published after that are heard. Events published before it (an
 * executor started after the cancel) are read from the events stream by `replayTaskEnds`,
 * which runs after this.
 */
export async function subscribeTaskEnds(bus: Bus, endedTasks: EndedTasks, logger: Logger): Promise<LiveSubscription> {
  const subscription = bus.subscribe(Subjects.taskUpdated, TaskEventSchema, (event) => {
    if (endedTasks.observe(event.taskId, event.status)) {
      logger.info('task ended; its queued and running work will be stopped', { taskId: event.taskId, status: event.status });
    }
  });
  await bus.connection.flush();
  return subscription;
}
