/**
 * Publishes the router's facts on the bus.
 */
import { LlmCompletedEventSchema, Subjects, type LlmCompletedEvent } from '@maestro/contracts';
import type { Bus } from '@maestro/bus';

/** Where the router reports completions; the handler depends on this port, not on NATS. */
export interface LlmEventPublisher {
  /** Publishes `maestro.events.llm.completed`. Best-effort: a bus failure is logged, not thrown. */
  completed(event: LlmCompletedEvent): Promise<void>;
}

/** The bus adapter of {@link LlmEventPublisher}; the payload is checked against the contract schema first. */
export function createBusLlmEventPublisher(bus: Pick<Bus, 'publishEvent'>): LlmEventPublisher {
  return {
    async completed(event) {
      await bus.publishEvent(Subjects.llmCompleted, LlmCompletedEventSchema.parse(event));
    },
  };
}
