/**
 * Records a finished work item: its outcome is stored (the idempotency record), then published
 * (a result to the results queue, an escalation to Orion's), then the `work.finished` event.
 * Stored before published, so a crash in between is healed by the redelivery finding the stored
 * outcome. The durable writes are retried a few times, then the work is handed back (nak'ed).
 */
import { exponentialBackoff, OperationalError, toMaestroError, type Clock, type Logger } from '@maestro/runtime';
import { isEscalation, resultOf, type WorkOutcome } from '../domain/escalation.js';
import type { ExecutorStats } from '../domain/executor-stats.js';
import type { WorkPublisher, WorkResultStore } from '../domain/ports.js';
import { toWorkFinishedEvent } from '../domain/subtask-result.js';

/** Pause between attempts of a durable write. */
const durableWriteBackoff = exponentialBackoff({ baseMs: 500, maxMs: 30_000 });

/** Attempts of a durable write (KV put, result publish) before the work is handed back instead. */
const DURABLE_WRITE_ATTEMPTS = 3;

/** What {@link OutcomeRecorder} writes to. */
export interface OutcomeRecorderOptions {
  results: WorkResultStore;
  publisher: WorkPublisher;
  stats: ExecutorStats;
  /** Time for the pauses between retries. */
  clock: Clock;
}

/** Stores and publishes outcomes of work items. */
export class OutcomeRecorder {
  constructor(private readonly options: OutcomeRecorderOptions) {}

  /** The stored outcome of a work item, if it finished before. */
  stored(workId: string): Promise<WorkOutcome | undefined> {
    return this.options.results.get(workId);
  }

  /** Stores, then publishes, then counts and announces a finished outcome. */
  async finish(outcome: WorkOutcome, log: Logger, level: 'info' | 'debug' = 'info'): Promise<void> {
    const result = resultOf(outcome);
    await this.durably('store result', () => this.options.results.put(outcome), log);
    await this.durably('publish result', () => this.publish(outcome), log);
    this.options.stats.recorded(result.ok);
    try {
      await this.options.publisher.publishFinished(toWorkFinishedEvent(result));
    } catch (err) {
      log.warn('work finished event not published', { err });
    }
    log[level](isEscalation(outcome) ? 'escalation published' : 'result published', { ok: result.ok, failureReason: result.failureReason });
  }

  /** Publishes a stored outcome again (a redelivery after it was stored); deduplicated downstream on its id. */
  republish(outcome: WorkOutcome, log: Logger): Promise<void> {
    return this.durably('publish result', () => this.publish(outcome), log);
  }

  /** A result goes to the results queue; an escalation to Orion's escalations queue instead. */
  private publish(outcome: WorkOutcome): Promise<void> {
    const { publisher } = this.options;
    return isEscalation(outcome) ? publisher.publishEscalation(outcome) : publisher.publishResult(outcome);
  }

  /** Retries a write the task depends on a few times before giving up (and having the work nak'ed). */
  private async durably(what: string, write: () => Promise<void>, log: Logger): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await write();
        return;
      } catch (err) {
        const error = toMaestroError(err);
        if (attempt >= DURABLE_WRITE_ATTEMPTS) {
          throw error instanceof OperationalError
            ? error
            : new OperationalError('RESULT_NOT_DELIVERED', `could not ${what}: ${error.message}`, { cause: err });
        }
        log.warn(`could not ${what}; retrying`, { attempt, error: error.message });
        await this.options.clock.sleep(durableWriteBackoff(attempt));
      }
    }
  }
}
