/**
 * The durable consumer of `maestro.events.run.>`: keeps task statuses in step with their runs.
 * One at a time, so a run's events are applied in the order they were published.
 */
import { Consumers, RunEventSchema, Streams, type RunEvent } from '@maestro/contracts';
import type { Bus, DeadLetter, WorkConsumer } from '@maestro/bus';
import { exponentialBackoff, toMaestroError, type Logger } from '@maestro/runtime';
import { applyRunEvent, type RunEventDeps } from '../../app/apply-run-event.js';

/** Every run event (started, transitioned, finished). */
export const RUN_EVENTS_FILTER = 'maestro.events.run.>';

/**
 * Deliveries of one event or result before it is dead-lettered. With {@link orchestratorConsumerBackoffMs}
 * about 12 minutes in all: a database or engine blip of minutes must not drop a `run.finished`
 * (the task would stay running forever) or a subtask result.
 */
export const ORCHESTRATOR_CONSUMER_MAX_DELIVER = 30;

/** Pause before redelivery after the n-th failed delivery: 0.5 s doubling, at most 30 s. */
export const orchestratorConsumerBackoffMs: (deliveryCount: number) => number = exponentialBackoff({ baseMs: 500, maxMs: 30_000 });

const RUN_STATUSES: ReadonlySet<string> = new Set(['running', 'done', 'failed', 'cancelled']);

/**
 * Last resort for a run event that could not be applied: reads the run from the engine and
 * applies its real status to the task, so a dead-lettered `run.finished` does not leave the
 * task running for ever. Best-effort: a failure is logged at error (the dead letter keeps the
 * event).
 */
export async function reconcileDeadLetteredRunEvent(deadLetter: DeadLetter, deps: RunEventDeps, logger: Logger): Promise<void> {
  const parsed = RunEventSchema.safeParse(deadLetter.payload);
  if (!parsed.success) return; // malformed: nothing names a run
  const event = parsed.data;
  const log = logger.child({ runId: event.runId });
  try {
    // As an internal caller (no tenant): the event names a run, not yet whose task it is.
    const run = await deps.workflow.getRun({ tenant: '', runId: event.runId }, { deadlineMs: deps.workflowDeadlineMs ?? 10_000 });
    if (!RUN_STATUSES.has(run.status)) throw new Error(`the engine reported run status "${run.status}"`);
    const current: RunEvent = { ...event, status: run.status as RunEvent['status'], state: run.state, at: new Date().toISOString() };
    const updated = await applyRunEvent(current, deps, log);
    log.warn('dead-lettered run event reconciled from the run itself', { runStatus: run.status, taskStatus: updated?.status ?? 'unchanged' });
  } catch (err) {
    const error = toMaestroError(err);
    log.error('dead-lettered run event could not be reconciled; the task may not match its run', {
      code: error.code,
      message: error.message,
      reason: deadLetter.reason,
    });
  }
}

/** Starts consuming run events. */
export function subscribeRunEvents(bus: Pick<Bus, 'consume'>, deps: RunEventDeps, logger: Logger): Promise<WorkConsumer> {
  return bus.consume({
    stream: Streams.events.name,
    durable: Consumers.orchestratorRunEvents,
    filterSubject: RUN_EVENTS_FILTER,
    schema: RunEventSchema,
    concurrency: 1,
    // A forged run.finished would finish a task: verified like the control streams (the engine signs what it publishes).
    authenticate: true,
    maxDeliver: ORCHESTRATOR_CONSUMER_MAX_DELIVER,
    backoffMs: orchestratorConsumerBackoffMs,
    handler: async (event, delivery) => {
      await applyRunEvent(event, deps, delivery.logger);
    },
    onDeadLetter: (deadLetter) => reconcileDeadLetteredRunEvent(deadLetter, deps, logger),
  });
}
