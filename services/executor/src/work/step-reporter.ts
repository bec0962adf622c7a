/**
 * The `work.step` events of one work item: the worker's own steps (locks, merges) and every
 * agent run's, numbered in one sequence. Each step also tells JetStream the work is alive.
 * Step events are for watchers: one that cannot be published is logged, never fatal.
 */
import type { AgentStep } from '@maestro/agent';
import type { SubtaskWork } from '@maestro/contracts';
import type { Clock, Logger } from '@maestro/runtime';
import type { WorkPublisher } from '../domain/ports.js';
import { toWorkStepEvent } from '../domain/subtask-result.js';
import type { WorkDelivery } from './work-delivery.js';

/** A step event on its way: its number in the work item's sequence, and its publication. */
export interface PublishedStep {
  index: number;
  done: Promise<void>;
}

/** What {@link StepReporter} needs. */
export interface StepReporterOptions {
  work: SubtaskWork;
  delivery: WorkDelivery;
  publisher: WorkPublisher;
  executorId: string;
  clock: Clock;
  log: Logger;
}

/** Numbers and publishes the steps of one work item. */
export class StepReporter {
  private next = 0;

  constructor(private readonly options: StepReporterOptions) {}

  /** Numbers the step and starts publishing it; the agent loop awaits `done`. */
  publish(step: Omit<AgentStep, 'index'>): PublishedStep {
    const index = this.next++;
    return { index, done: this.send({ ...step, index }) };
  }

  /** Publishes one of the worker's own steps. */
  report(step: Omit<AgentStep, 'index'>): Promise<void> {
    return this.publish(step).done;
  }

  private async send(step: AgentStep): Promise<void> {
    const { work, delivery, publisher, executorId, clock, log } = this.options;
    delivery.working();
    const event = toWorkStepEvent(work, step, executorId, new Date(clock.now()).toISOString());
    try {
      await publisher.publishStep(event);
    } catch (err) {
      // Step events are for watchers; losing one must not fail the subtask.
      log.warn('work step event not published', { step: step.index, err });
    }
  }
}
