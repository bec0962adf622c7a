/**
 * The engine's pure decisions about a run: given the run as stored (locked by the store) and an
 * event, what to write. Every write path of the engine (SendEvent, activity results, the timeout
 * sweep) goes through one of these, inside the store's one transaction per step; none of them
 * reads a clock or touches I/O, so they are tested here without servers.
 */
import type { ActivityResult } from '@maestro/contracts';
import { invalidField } from '@maestro/runtime';
import type { MachineEvent } from './registries.js';
import { activityOf, activityTimeoutOf, applyRunEvent, isFinished, type RunnableDefinition, type RunPosition, type RunStatus } from './run-machine.js';

/** Error codes of the `activity.failed` events the engine itself sends. */
export const EngineFailureCodes = {
  /** The attempt outlived its state's `meta.timeoutMs`. */
  activityTimeout: 'ACTIVITY_TIMEOUT',
  /** The activity request could never be published (schema, NATS max_payload). */
  activityRequestUnpublishable: 'ACTIVITY_REQUEST_UNPUBLISHABLE',
  /** A result reported failure without saying why. */
  activityFailed: 'ACTIVITY_FAILED',
} as const;
/** One of {@link EngineFailureCodes}. */
export type EngineFailureCode = (typeof EngineFailureCodes)[keyof typeof EngineFailureCodes];

/** The error code of the `activity.failed` the engine sends when an attempt outlives `meta.timeoutMs`. */
export const ACTIVITY_TIMEOUT = EngineFailureCodes.activityTimeout;

/** The error code of the `activity.failed` the engine applies when an activity request can never be published. */
export const ACTIVITY_REQUEST_UNPUBLISHABLE = EngineFailureCodes.activityRequestUnpublishable;

/** The event SendEvent sends to cancel a run (every working state of `coding` handles it). */
export const CANCEL_EVENT = 'CANCEL';

/** What a decision needs of a run: where it is, and its id (for work ids). */
export interface DecidableRun extends RunPosition {
  id: string;
}

/** A history row to write with a decision. */
export interface TransitionDraft {
  fromState: string;
  toState: string;
  eventType: string;
  event: Record<string, unknown>;
}

/** What to do with a locked run. */
export type RunDecision =
  | {
      kind: 'ignore';
      reason: string;
      /** Also forget the run's activity timeout (so a sweep does not find the run due again). */
      clearTimeout?: boolean;
    }
  | {
      kind: 'update';
      position: RunPosition;
      /** Present when a state was entered: becomes the next history row. */
      transition?: TransitionDraft;
      /** The new activity deadline (null: none); absent leaves it as it is. */
      timeoutAt?: Date | null;
    };

/** The `${runId}:${state}:${attempt}` id of an activity request, stable across re-publishes. */
export function workIdOf(runId: string, state: string, attempt: number): string {
  return `${runId}:${state}:${attempt}`;
}

/** When an attempt of `state` entered at `nowMs` times out, or null when the state has no timeout. */
export function deadlineOf(runnable: RunnableDefinition, state: string, status: RunStatus, nowMs: number): Date | null {
  if (isFinished(status)) return null;
  const timeoutMs = activityTimeoutOf(runnable.definition, state);
  return timeoutMs === undefined ? null : new Date(nowMs + timeoutMs);
}

/** The engine's event for an activity result. */
export function toActivityEvent(result: ActivityResult): MachineEvent {
  const base = { workId: result.workId, state: result.state, activity: result.activity, attempt: result.attempt };
  return result.ok
    ? { type: 'activity.done', ...base, output: result.output ?? {} }
    : {
        type: 'activity.failed',
        ...base,
        error: result.error ?? { code: EngineFailureCodes.activityFailed, message: 'the activity failed without saying why' },
      };
}

/**
 * Throws INVALID_ARGUMENT on `type` for event types a caller may not send: `xstate.*` is
 * XState's, and `activity.*` outcomes carry a state and attempt that only the result path
 * checks (sent from outside they could finish a state whose work is still running).
 */
export function checkSendableEventType(type: string): void {
  if (type.startsWith('xstate.')) throw invalidField('type', 'event types starting with "xstate." are reserved');
  if (type.startsWith('activity.')) {
    throw invalidField('type', `event types starting with "activity." are reserved for activity results (got "${type}"); publish an ActivityResult instead`);
  }
}

/**
 * Applies `event` to the run: `ignore` when its state does not handle it; an update (with a
 * history row and a new deadline when a state was entered) otherwise.
 */
export function decideEvent(run: DecidableRun, runnable: RunnableDefinition, event: MachineEvent, nowMs: number): RunDecision {
  if (isFinished(run.status)) return { kind: 'ignore', reason: `run is ${run.status}` };
  const step = applyRunEvent(runnable, run, event);
  if (!step.changed) return { kind: 'ignore', reason: `state "${run.state}" does not handle ${event.type}` };
  const position: RunPosition = { snapshot: step.snapshot, state: step.state, status: step.status, attempt: step.attempt, visits: step.visits, context: step.context };
  if (!step.transitioned) return { kind: 'update', position };
  return {
    kind: 'update',
    position,
    transition: { fromState: run.state, toState: step.state, eventType: event.type, event: { ...event } },
    // Entering a state starts a new attempt, and with it a new deadline (or none).
    timeoutAt: deadlineOf(runnable, step.state, step.status, nowMs),
  };
}

/**
 * Applies an activity result, unless it is stale: for another state or attempt than the run's
 * current one, or for an activity the state does not request.
 */
export function decideActivityResult(run: DecidableRun, runnable: RunnableDefinition, result: ActivityResult, nowMs: number): RunDecision {
  if (isFinished(run.status)) return { kind: 'ignore', reason: `run is ${run.status}` };
  if (run.state !== result.state || run.attempt !== result.attempt) {
    return { kind: 'ignore', reason: `stale: run is in ${run.state} attempt ${run.attempt}, result is for ${result.state} attempt ${result.attempt}` };
  }
  const activity = activityOf(runnable.definition, run.state);
  if (activity !== result.activity) return { kind: 'ignore', reason: `state ${run.state} requests ${activity ?? 'no activity'}, not ${result.activity}` };
  return decideEvent(run, runnable, toActivityEvent(result), nowMs);
}

/** The event the sweep sends for an attempt that outlived its timeout. */
export function timeoutEvent(run: DecidableRun, activity: string, timeoutMs: number): MachineEvent {
  return {
    type: 'activity.failed',
    workId: workIdOf(run.id, run.state, run.attempt),
    state: run.state,
    activity,
    attempt: run.attempt,
    error: {
      code: EngineFailureCodes.activityTimeout,
      message: `activity "${activity}" of state "${run.state}" (attempt ${run.attempt}) did not report a result within ${timeoutMs} ms`,
    },
  };
}

/**
 * The sweep's decision for a locked, due run: its timeout event, and never a deadline left
 * behind (a state that ignores `activity.failed`, or handles it without leaving, keeps waiting
 * but must not be found due again at every sweep).
 */
export function decideTimeout(run: DecidableRun, runnable: RunnableDefinition, nowMs: number): RunDecision {
  const activity = activityOf(runnable.definition, run.state);
  const timeoutMs = activityTimeoutOf(runnable.definition, run.state);
  if (activity === undefined || timeoutMs === undefined) return { kind: 'ignore', reason: `state ${run.state} has no activity timeout`, clearTimeout: true };
  const decision = decideEvent(run, runnable, timeoutEvent(run, activity, timeoutMs), nowMs);
  if (decision.kind === 'ignore') return { ...decision, clearTimeout: true };
  return decision.transition === undefined ? { ...decision, timeoutAt: null } : decision;
}

/** The CANCEL event CancelRun sends, carrying the caller's reason when there is one. */
export function cancelEvent(reason: string): MachineEvent {
  return reason === '' ? { type: CANCEL_EVENT } : { type: CANCEL_EVENT, reason };
}
