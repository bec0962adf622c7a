/**
 * The durable consumer of `maestro.events.work.finished`: each subtask attempt's verdict goes
 * into the usage ledger, crediting the models that worked that attempt (their measured success
 * rate, which "cheapest qualifying model" routing rules read). On a keyed bus only signed
 * verdicts count; an unsigned or forged one is dead-lettered with the reason.
 */
import { Consumers, Streams, Subjects, WorkFinishedEventSchema } from '@maestro/contracts';
import type { Bus, WorkConsumer } from '@maestro/bus';
import type { UsageLedger } from '../../store/usage-ledger.js';

/** Starts consuming verdicts; recording is idempotent per (task, subtask, attempt). */
export function subscribeWorkVerdicts(bus: Pick<Bus, 'consume'>, ledger: Pick<UsageLedger, 'recordVerdict'>): Promise<WorkConsumer> {
  return bus.consume({
    stream: Streams.events.name,
    durable: Consumers.routerWorkVerdicts,
    filterSubject: Subjects.workFinished,
    // Verdicts move routing ("cheapest model whose success rate is at least X"): forged ones are dead-lettered.
    authenticate: true,
    schema: WorkFinishedEventSchema,
    concurrency: 4,
    handler: async (event) => {
      await ledger.recordVerdict({
        taskId: event.taskId,
        subtaskId: event.subtaskId,
        attempt: event.attempt,
        ok: event.ok,
        at: new Date(event.finishedAt),
      });
    },
  });
}
