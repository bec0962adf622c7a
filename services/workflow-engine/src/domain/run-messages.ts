/**
 * The messages a run's effects carry, built purely from the run: the `RunEvent` facts
 * (`run.started` / `.transitioned` / `.finished`) and the activity request for the state the run
 * waits in. The effects (`run-effects.ts`) decide when to publish them.
 */
import type { ActivityRequest, ActivityRequestedEvent, RunEvent } from '@maestro/contracts';
import type { RunContext } from './registries.js';
import { activityOf, isFinished, type RunnableDefinition, type RunStatus } from './run-machine.js';
import { workIdOf } from './run-decision.js';

/** What the messages need of a run. */
export interface RunFacts {
  id: string;
  /** The tenant the run belongs to (carried on its events). */
  tenant: string;
  definitionName: string;
  status: RunStatus;
  state: string;
  attempt: number;
  context: RunContext;
}

/** A run event at `at`; a finished run's event carries `context.error` as its error. */
export function toRunEvent(run: RunFacts, at: Date, extra: Partial<RunEvent> = {}): RunEvent {
  const event: RunEvent = {
    runId: run.id,
    tenant: run.tenant,
    definitionName: run.definitionName,
    status: run.status,
    state: run.state,
    input: run.context.input,
    at: at.toISOString(),
    ...extra,
  };
  if (run.context.error !== undefined && isFinished(run.status)) {
    event.error = { code: run.context.error.code, message: run.context.error.message };
  }
  return event;
}

/** The request for the current state's activity and its `activity.requested` fact. */
export interface PendingActivity {
  activity: string;
  request: ActivityRequest;
  requested: ActivityRequestedEvent;
}

/** The activity the run waits for in its current state (attempt included), or undefined when none. */
export function pendingActivityOf(run: RunFacts, runnable: RunnableDefinition, requestedAt: Date): PendingActivity | undefined {
  if (isFinished(run.status)) return undefined;
  const activity = activityOf(runnable.definition, run.state);
  if (activity === undefined) return undefined;
  const at = requestedAt.toISOString();
  const workId = workIdOf(run.id, run.state, run.attempt);
  return {
    activity,
    request: { workId, runId: run.id, state: run.state, activity, attempt: run.attempt, context: run.context, requestedAt: at },
    requested: { runId: run.id, state: run.state, activity, attempt: run.attempt, at },
  };
}
