/**
 * The registries definitions name things from: actions (context updates), guards (conditions
 * on a transition) and activities (work a state asks for on entry). A definition is data, so
 * it can only refer to behaviour by name; these maps are where the names mean something.
 */
import { assign } from 'xstate';
import { WorkQueues, type WorkQueue } from '@maestro/contracts';

/** An event as the machine sees it: a type plus whatever fields the sender put in. */
export interface MachineEvent {
  type: string;
  [key: string]: unknown;
}

/** The context of every run: the definition's own fields plus `input` and `outputs`. */
export interface RunContext {
  /** What StartRun was given. */
  input: Record<string, unknown>;
  /** Each state's activity output, keyed by state name (written by `storeOutput`). */
  outputs: Record<string, unknown>;
  /** Why the run failed (written by `storeError` / `storeRejection`). */
  error?: { code: string; message: string; state: string };
  [key: string]: unknown;
}

/** Parameters every named action receives: the state whose transition or entry runs it. */
export interface ActionParams {
  state: string;
}

/**
 * An action's implementation: an XState action (usually `assign(...)`) taking {@link ActionParams}.
 * Typed loosely because XState's action types are generic over the whole machine; the only
 * consumer is `machine.provide()`, which checks nothing more at runtime either.
 */
export type ActionImplementation = unknown;

/** A named action and what it does, for docs and error messages. */
export interface ActionEntry {
  description: string;
  implementation: ActionImplementation;
}

/** A named guard: a pure predicate over the run's context and the event. */
export interface GuardEntry {
  description: string;
  check: (args: { context: RunContext; event: MachineEvent }) => boolean;
}

/** A named activity and the work queue whose consumers perform it. */
export interface ActivityEntry {
  description: string;
  queue: WorkQueue;
}

/** The three registries a definition is validated and executed against. */
export interface Registries {
  actions: Readonly<Record<string, ActionEntry>>;
  guards: Readonly<Record<string, GuardEntry>>;
  activities: Readonly<Record<string, ActivityEntry>>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function errorOf(event: MachineEvent): { code: string; message: string } {
  const error = event['error'];
  if (isRecord(error)) {
    return {
      code: typeof error['code'] === 'string' ? error['code'] : 'ACTIVITY_FAILED',
      message: typeof error['message'] === 'string' ? error['message'] : 'the activity failed',
    };
  }
  return { code: 'ACTIVITY_FAILED', message: typeof error === 'string' ? error : 'the activity failed' };
}

function outputOf(event: MachineEvent): Record<string, unknown> {
  const output = event['output'];
  return isRecord(output) ? output : {};
}

/** The built-in actions. */
export const builtinActions: Readonly<Record<string, ActionEntry>> = {
  storeOutput: {
    description: "Merges event.output into context.outputs[<state>] (the state whose transition runs it).",
    implementation: assign(({ context, event }: { context: RunContext; event: MachineEvent }, params: ActionParams) => {
      const previous = context.outputs[params.state];
      return {
        outputs: { ...context.outputs, [params.state]: { ...(isRecord(previous) ? previous : {}), ...outputOf(event) } },
      };
    }),
  },
  storeError: {
    description: 'Sets context.error to event.error ({ code, message }) and the state it happened in.',
    implementation: assign(({ event }: { event: MachineEvent }, params: ActionParams) => ({
      error: { ...errorOf(event), state: params.state },
    })),
  },
  storeRejection: {
    description: 'Sets context.error to REVIEW_REJECTED with event.output.reason (or summary) as the message.',
    implementation: assign(({ event }: { event: MachineEvent }, params: ActionParams) => {
      const output = outputOf(event);
      const reason = output['reason'] ?? output['summary'];
      return {
        error: {
          code: 'REVIEW_REJECTED',
          message: typeof reason === 'string' && reason !== '' ? reason : 'the review did not approve the change',
          state: params.state,
        },
      };
    }),
  },
  clearError: {
    description: 'Removes context.error (before a retry).',
    implementation: assign(() => ({ error: undefined })),
  },
};

/** The built-in guards. */
export const builtinGuards: Readonly<Record<string, GuardEntry>> = {
  approved: {
    description: 'event.output.approved === true',
    check: ({ event }) => outputOf(event)['approved'] === true,
  },
  rejected: {
    description: 'event.output.approved === false',
    check: ({ event }) => outputOf(event)['approved'] === false,
  },
};

/** The built-in activities: Orion's strategic steps, all on the orchestrator queue. */
export const builtinActivities: Readonly<Record<string, ActivityEntry>> = {
  intake: { description: 'Orion reads the task and the repository and states the goal.', queue: WorkQueues.orchestrator },
  preflight: { description: 'Orion checks the repository and the machine before any model is asked, and records the test baseline.', queue: WorkQueues.orchestrator },
  plan: { description: 'Orion plans subtasks with the strategic model.', queue: WorkQueues.orchestrator },
  code: { description: 'Orion dispatches the subtasks to executors and collects their results.', queue: WorkQueues.orchestrator },
  review: { description: 'Orion reviews the change and approves it or not.', queue: WorkQueues.orchestrator },
  answer: { description: 'Orion answers a question about the repository with the strategic model; nothing is changed.', queue: WorkQueues.orchestrator },
};

/** The registries the engine runs with unless told otherwise. */
export const defaultRegistries: Registries = {
  actions: builtinActions,
  guards: builtinGuards,
  activities: builtinActivities,
};
