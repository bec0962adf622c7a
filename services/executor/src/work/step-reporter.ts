/**
 * The `work.step` events of one work item: the worker's own steps (locks, merges) and every
 * agent run's, numbered in one sequence. Each step also tells JetStream the work is alive.
 * Steps go to the process's {@link StepOutbox}, which publishes them in order until the stream
 * has them; the agent never waits for NATS, and `flushed()` says when all of them are out.
 */
import type { AgentStep } from '@maestro/agent';
import type { SubtaskWork } from '@maestro/contracts';
import type { Clock } from '@maestro/runtime';
import { toWorkStepEvent } from '../domain/subtask-result.js';
import type { StepOutbox } from './step-outbox.js';
import type { WorkDelivery } from './work-delivery.js';

/** A step event on its way: its number in the work item's sequence, and `done` once it is queued. */
export interface PublishedStep {
  index: number;
  done: Promise<void>;
}

/** What {@link StepReporter} needs. */
export interface StepReporterOptions {
  work: SubtaskWork;
  delivery: WorkDelivery;
  outbox: StepOutbox;
  executorId: string;
  clock: Clock;
}

/** Numbers and publishes the steps of one work item. */
export class StepReporter {
  private next = 0;

  constructor(private readonly options: StepReporterOptions) {}

  /** Numbers the step and queues it for publishing; `done` resolves once queued (the agent never waits for NATS). */
  publish(step: Omit<AgentStep, 'index'>): PublishedStep {
    const index = this.next++;
    return { index, done: this.send({ ...step, index }) };
  }

  /** Publishes one of the worker's own steps. */
  report(step: Omit<AgentStep, 'index'>): Promise<void> {
    return this.publish(step).done;
  }

  /** Resolves once every step of this work item left the outbox; rejects when `signal` aborts first. */
  flushed(signal?: AbortSignal): Promise<void> {
    return this.options.outbox.flushed(this.options.work.workId, signal);
  }

  private async send(step: AgentStep): Promise<void> {
    const { work, delivery, outbox, executorId, clock } = this.options;
    delivery.working();
    outbox.enqueue(work.workId, toWorkStepEvent(work, step, executorId, new Date(clock.now()).toISOString()));
  }
}
