/**
 * Consumes activity results (`maestro.results.activity`) through the engine's durable
 * consumer and applies each to its run. Results live in JetStream until acked, so results
 * that arrive while the engine is down are applied when it comes back.
 */
import { ActivityResultSchema, Consumers, Streams, Subjects, type ActivityResult } from '@maestro/contracts';
import type { Bus, DeadLetter, WorkConsumer } from '@maestro/bus';
import { exponentialBackoff, type Logger } from '@maestro/runtime';
import type { WorkflowEngine } from '../../engine.js';

/** The error code of the failure applied to a run whose activity result was dead-lettered. */
export const RESULT_UNPROCESSABLE = 'RESULT_UNPROCESSABLE';

/**
 * Deliveries of a result before it is dead-lettered (and its run failed). With
 * {@link resultBackoffMs} they span about 11.5 minutes, so a database failover or restart
 * outlasts none of them: a successful activity is not failed because PostgreSQL was briefly away.
 */
export const RESULT_MAX_DELIVER = 30;

/** Redelivery delay of a result whose handling failed: 250ms·2^(n-1), at most 30 s. */
export const resultBackoffMs: (deliveryCount: number) => number = exponentialBackoff({ baseMs: 250, maxMs: 30_000 });

/**
 * Results applied at once by one process. A step spends most of its time waiting on
 * PostgreSQL and JetStream round trips, so more steps in flight than cores pay off; 16 keeps
 * 16 runs moving at once (the pool has 10 connections, each held only for a statement).
 */
export const DEFAULT_RESULT_CONCURRENCY = 16;

/** Options of {@link startActivityResultSubscriber}. */
export interface ActivityResultSubscriberOptions {
  /** Where dead-lettered results are reported (at error: a run was failed because of one). */
  logger: Logger;
  /** Results applied at once by this process. @default DEFAULT_RESULT_CONCURRENCY (16) */
  concurrency?: number;
  /** Deliveries before a result that keeps failing is dead-lettered. @default RESULT_MAX_DELIVER (30) */
  maxDeliver?: number;
  /** Delay before redelivering a result whose handling failed. @default resultBackoffMs (250ms·2^(n-1), at most 30s) */
  backoffMs?: (deliveryCount: number) => number;
}

/**
 * The failed result that stands in for a result the engine could not apply: same run, state,
 * attempt and work id, so it fails exactly the attempt the lost result was for (and nothing if
 * the run has moved on).
 */
export function toUnprocessableResult(result: ActivityResult, reason: string): ActivityResult {
  return {
    workId: result.workId,
    runId: result.runId,
    state: result.state,
    activity: result.activity,
    attempt: result.attempt,
    ok: false,
    error: { code: RESULT_UNPROCESSABLE, message: `the ${result.ok ? 'result' : 'failure report'} of activity "${result.activity}" could not be applied: ${reason}` },
    finishedAt: result.finishedAt,
  };
}

/**
 * Starts the durable consumer. Stale and unknown-run results are acked and ignored (the engine
 * logs why); a database outage throws OperationalError and the result is redelivered. A result
 * that exhausts its deliveries (or is rejected outright) is dead-lettered and its attempt is
 * failed with RESULT_UNPROCESSABLE, so the run ends instead of waiting for a result that will
 * never be applied.
 */
export async function startActivityResultSubscriber(
  bus: Pick<Bus, 'consume'>,
  engine: Pick<WorkflowEngine, 'applyActivityResult'>,
  options: ActivityResultSubscriberOptions,
): Promise<WorkConsumer> {
  const logger = options.logger.child({ component: 'activity-results' });

  const onDeadLetter = async (dead: DeadLetter): Promise<void> => {
    const parsed = ActivityResultSchema.safeParse(dead.payload);
    if (!parsed.success) {
      // Malformed: there is no run id to trust, so nobody can be told. The message is in the DLQ.
      logger.error('malformed activity result dead-lettered', { reason: dead.reason, raw: dead.raw.slice(0, 500) });
      return;
    }
    const result = parsed.data;
    const log = logger.child({ runId: result.runId, workId: result.workId });
    log.error('activity result dead-lettered; failing its attempt', { reason: dead.reason, deliveries: dead.deliveries });
    try {
      const outcome = await engine.applyActivityResult(toUnprocessableResult(result, dead.reason));
      if (outcome.applied) log.error('run failed: its activity result could not be applied', { state: outcome.run.state, status: outcome.run.status });
      else log.error('dead-lettered result changed nothing', { reason: outcome.reason });
    } catch (err) {
      // Not rethrown: the bus would leave the message unacked and dead-letter it a second
      // time. The result is in the DLQ with its reason, and a `meta.timeoutMs` on the state
      // still ends the attempt.
      log.error('could not fail the run of a dead-lettered result', { err: err instanceof Error ? err.message : String(err) });
    }
  };

  return bus.consume({
    stream: Streams.results.name,
    durable: Consumers.engineActivityResults,
    filterSubject: Subjects.activityResult,
    schema: ActivityResultSchema,
    concurrency: options.concurrency ?? DEFAULT_RESULT_CONCURRENCY,
    maxDeliver: options.maxDeliver ?? RESULT_MAX_DELIVER,
    backoffMs: options.backoffMs ?? resultBackoffMs,
    handler: async (result, delivery) => {
      const outcome = await engine.applyActivityResult(result);
      delivery.logger.debug('activity result handled', { runId: result.runId, workId: result.workId, applied: outcome.applied });
    },
    onDeadLetter,
  });
}
