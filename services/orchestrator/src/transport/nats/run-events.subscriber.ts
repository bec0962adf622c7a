/**
 * The durable consumer of `maestro.events.run.>`: keeps task statuses in step with their runs.
 * One at a time, so a run's events are applied in the order they were published.
 */
import { Consumers, RunEventSchema, Streams } from '@maestro/contracts';
import type { Bus, WorkConsumer } from '@maestro/bus';
import { applyRunEvent, type RunEventDeps } from '../../app/apply-run-event.js';

/** Every run event (started, transitioned, finished). */
export const RUN_EVENTS_FILTER = 'maestro.events.run.>';

/** Starts consuming run events. */
export function subscribeRunEvents(bus: Pick<Bus, 'consume'>, deps: RunEventDeps): Promise<WorkConsumer> {
  return bus.consume({
    stream: Streams.events.name,
    durable: Consumers.orchestratorRunEvents,
    filterSubject: RUN_EVENTS_FILTER,
    schema: RunEventSchema,
    concurrency: 1,
    handler: async (event, delivery) => {
      await applyRunEvent(event, deps, delivery.logger);
    },
  });
}
