/**
 * The durable consumer of `maestro.escalations.>`: tactical agents' failures, each decided once
 * by the strategic model (see `app/handle-escalation.ts`). An escalation that cannot be handled
 * is dead-lettered by the bus and then recorded as the failed result it stands for, so its
 * subtask (and task) does not wait forever.
 */
import { Consumers, EscalationSchema, Streams, Subjects } from '@maestro/contracts';
import type { Bus, DeadLetter, WorkConsumer } from '@maestro/bus';
import type { Logger } from '@maestro/runtime';
import { handleEscalation, type EscalationDeps } from '../../app/handle-escalation.js';
import { recordSubtaskResult } from '../../app/record-subtask-result.js';
import { ORCHESTRATOR_CONSUMER_MAX_DELIVER, orchestratorConsumerBackoffMs } from './run-events.subscriber.js';

/** Options of the escalations consumer. */
export interface EscalationsOptions {
  /** Escalations handled at once (each may wait minutes for the model). @default 4 */
  concurrency?: number;
  /** Aborted when handlers in flight must be cut short and handed back (drain time is up). */
  signal?: AbortSignal;
}

/**
 * Last resort for an escalation that could not be handled: its failed result is recorded (a
 * stale or duplicate one is ignored as usual), so the code activity can still finish.
 */
export async function failDeadLetteredEscalation(deadLetter: DeadLetter, deps: EscalationDeps, logger: Logger): Promise<void> {
  const parsed = EscalationSchema.safeParse(deadLetter.payload);
  if (!parsed.success) return; // malformed: nothing names a subtask
  const escalation = parsed.data;
  const original = escalation.result.failureReason ?? 'the executor reported a failure without a reason';
  logger.warn('escalation gave up; recording the failed result', { escalationId: escalation.escalationId, reason: deadLetter.reason });
  await recordSubtaskResult(
    { ...escalation.result, ok: false, failureReason: `${original}; the escalation could not be handled: ${deadLetter.reason}` },
    { store: deps.store, work: deps.work, clock: deps.clock },
    logger,
  );
}

/** Starts consuming escalations. Several at once is safe: each locks its task row. */
export function subscribeEscalations(bus: Pick<Bus, 'consume'>, deps: EscalationDeps, logger: Logger, options: EscalationsOptions = {}): Promise<WorkConsumer> {
  return bus.consume({
    stream: Streams.escalations.name,
    durable: Consumers.orchestratorEscalations,
    filterSubject: Subjects.escalations,
    schema: EscalationSchema,
    concurrency: options.concurrency ?? 4,
    // A database or router blip of minutes must not drop an escalation (its subtask would never finish).
    maxDeliver: ORCHESTRATOR_CONSUMER_MAX_DELIVER,
    backoffMs: orchestratorConsumerBackoffMs,
    handler: async (escalation, delivery) => {
      await handleEscalation(escalation, deps, delivery.logger, options.signal);
    },
    onDeadLetter: (deadLetter) => failDeadLetteredEscalation(deadLetter, deps, logger),
  });
}
