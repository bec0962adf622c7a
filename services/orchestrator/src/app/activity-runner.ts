/**
 * Runs one `ActivityRequest` from `maestro.work.orchestrator.<activity>` and publishes its
 * `ActivityResult`. Failure policy: a `UserError` (bad plan reply, missing repository, unknown
 * task, task already ended) fails the activity at once with its code and message; anything
 * else is rethrown so the work consumer retries it, and after the last delivery
 * {@link failedResultFor} reports it. An activity cut short by shutdown is handed back (an
 * `OperationalError`, so the consumer naks it) whatever it threw.
 */
import { HandBackError } from '@maestro/bus';
import type { ActivityRequest, ActivityResult } from '@maestro/contracts';
import { isMaestroError, OperationalError, UserError, type Logger } from '@maestro/runtime';
import { requireTask, type Activity, type ActivityDeps } from '../activities/activity.js';

/** Error code of a request for an activity Orion does not perform. */
export const UNKNOWN_ACTIVITY = 'UNKNOWN_ACTIVITY';
/** Error code of a request whose context does not name a task. */
export const BAD_ACTIVITY_CONTEXT = 'BAD_ACTIVITY_CONTEXT';
/** Error code of a request that kept failing until it was dead-lettered. */
export const ACTIVITY_GAVE_UP = 'ACTIVITY_GAVE_UP';
/** The error that hands a request back: the work consumer redelivers it to another replica without using up a delivery. */
export function handedBack(cause: unknown): HandBackError {
  return new HandBackError('the orchestrator is shutting down; the activity request goes back to the queue', { cause });
}

/** A signal that never aborts, for callers without a shutdown to tell about. */
const NEVER: AbortSignal = new AbortController().signal;

/** The task id a coding run carries in `context.input.taskId`. */
export function taskIdOf(context: Record<string, unknown>): string | undefined {
  const input = context.input;
  if (typeof input !== 'object' || input === null) return undefined;
  const taskId = (input as Record<string, unknown>).taskId;
  return typeof taskId === 'string' && taskId !== '' ? taskId : undefined;
}

function resultOf(request: ActivityRequest, finishedAt: string): Omit<ActivityResult, 'ok'> {
  return {
    workId: request.workId,
    runId: request.runId,
    state: request.state,
    activity: request.activity,
    attempt: request.attempt,
    finishedAt,
  };
}

/** The failed result for a request, with the error the run will show. */
export function failedResultFor(request: ActivityRequest, error: { code: string; message: string }, finishedAt: string): ActivityResult {
  return { ...resultOf(request, finishedAt), ok: false, error };
}

/** Everything the runner needs: the activities by name and their dependencies. */
export interface ActivityRunnerDeps extends ActivityDeps {
  activities: Readonly<Record<string, Activity>>;
}

/**
 * Performs the request's activity and publishes its result (unless the activity defers it).
 * `signal` aborts the activity when the orchestrator's drain time is up.
 */
export async function runActivity(
  request: ActivityRequest,
  deps: ActivityRunnerDeps,
  logger: Logger,
  signal: AbortSignal = NEVER,
): Promise<void> {
  if (signal.aborted) throw handedBack(signal.reason);
  const log = logger.child({ runId: request.runId, state: request.state, activity: request.activity, attempt: request.attempt });
  const now = (): string => new Date(deps.clock.now()).toISOString();
  const fail = async (code: string, message: string): Promise<void> => {
    log.info('activity failed', { code, message });
    await deps.work.publishActivityResult(failedResultFor(request, { code, message }, now()));
  };

  const activity = deps.activities[request.activity];
  if (!activity) {
    await fail(UNKNOWN_ACTIVITY, `the orchestrator does not perform activity "${request.activity}" (it performs ${Object.keys(deps.activities).join(', ')})`);
    return;
  }
  const taskId = taskIdOf(request.context);
  if (!taskId) {
    await fail(BAD_ACTIVITY_CONTEXT, 'the run context has no input.taskId; coding runs are started by the orchestrator with one');
    return;
  }

  let outcome;
  try {
    const invocation = { request, taskId, deps, logger: log.child({ taskId }), signal };
    // Every activity, whatever it does, first makes sure its task exists and has not ended:
    // a run that outlived its task (cancelled before the run was known) must do no work.
    await requireTask(invocation);
    outcome = await activity(invocation);
  } catch (err) {
    if (signal.aborted) {
      log.warn('activity cut short by shutdown; handing the request back');
      throw handedBack(err);
    }
    if (isMaestroError(err) && err instanceof UserError) {
      await fail(err.code, err.message);
      return;
    }
    throw err;
  }
  if (outcome.kind === 'deferred') {
    log.info('activity dispatched; result follows later');
    return;
  }
  await deps.work.publishActivityResult({ ...resultOf(request, now()), ok: true, output: outcome.output });
  log.info('activity completed');
}
