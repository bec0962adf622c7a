/**
 * Runs one `ActivityRequest` from `maestro.work.orchestrator.<activity>` and publishes its
 * `ActivityResult`. Failure policy: a `UserError` (bad plan reply, missing repository, unknown
 * task) fails the activity at once with its code and message; anything else is rethrown so the
 * work consumer retries it, and after the last delivery {@link failedResultFor} reports it.
 */
import type { ActivityRequest, ActivityResult } from '@maestro/contracts';
import { isMaestroError, UserError, type Logger } from '@maestro/runtime';
import type { Activity, ActivityDeps } from '../activities/activity.js';

/** Error code of a request for an activity Orion does not perform. */
export const UNKNOWN_ACTIVITY = 'UNKNOWN_ACTIVITY';
/** Error code of a request whose context does not name a task. */
export const BAD_ACTIVITY_CONTEXT = 'BAD_ACTIVITY_CONTEXT';
/** Error code of a request that kept failing until it was dead-lettered. */
export const ACTIVITY_GAVE_UP = 'ACTIVITY_GAVE_UP';

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

/** Performs the request's activity and publishes its result (unless the activity defers it). */
export async function runActivity(request: ActivityRequest, deps: ActivityRunnerDeps, logger: Logger): Promise<void> {
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
    outcome = await activity({ request, taskId, deps, logger: log.child({ taskId }) });
  } catch (err) {
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
