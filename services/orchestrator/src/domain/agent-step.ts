/**
 * The recorded steps of tactical agents: what one step is, what identifies it, the order they
 * are listed in, the listing cursor, and the rules a ListAgentSteps request must satisfy. Pure
 * data and functions; the store persists them.
 *
 * **Identity.** A step is identified by (task, subtask, executor, step number, time). The
 * executor numbers a subtask's steps from the start each time it runs the subtask, so the
 * number alone does not identify a step: a subtask retried on another executor numbers again
 * (the executor id tells them apart), and so does one handed back and redelivered to the *same*
 * executor (a router blip, a new attempt), which only the step's time tells apart. A redelivery of
 * the same event carries the same time and is a no-op.
 *
 * **Attempt.** The step event carries the work item's attempt (executors send it since it was
 * added; older ones don't), and it is recorded as reported, or null when absent. It labels the
 * step but is not part of its identity: the identity above already tells steps apart, and
 * steps recorded before had none. The orchestrator never fills it in from the subtask's current
 * attempt, which a lagging consumer would read after attempt 2 was dispatched for attempt 1's steps.
 *
 * **Order.** Steps are listed in the order Orion stored them (`seq`, migration
 * `0005_agent_step_seq`), not by the executor's clock: steps arrive out of order (several
 * consumers and replicas, executors with skewed clocks), and a cursor on the step's time would
 * skip a step stored after the cursor was issued but stamped earlier. Storage order is the order
 * a client following `next_after` sees them, so it never misses one.
 *
 * **Details.** A `recall` step carries the memories that went into a prompt (an agent's, or
 * Orion's for planning and review), a `condensation` step what the condensation did; both are
 * kept with the step (one JSON document, {@link AgentStepDetails}) so a person can later see why
 * an agent did what it did. Other steps have none. A `model` step keeps its call (who answered,
 * tokens, cost), a `tool` step its arguments and observation (bounded by the executor), and any
 * step how long it took, so the history shows them without the live usage events.
 */
import type { Condensation, RecalledMemory, WorkStepEvent, WorkStepModelCall } from '@maestro/contracts';
import { invalidField, UserError } from '@maestro/runtime';

/** Default and largest page of ListAgentSteps. */
export const AgentStepLimits = {
  defaultLimit: 200,
  maxLimit: 1000,
  /** Longest task, run or subtask id accepted in a listing request. */
  idMaxChars: 256,
} as const;

/** Largest step number (and attempt) PostgreSQL's `integer` holds. */
const MAX_STEP = 2_147_483_647;

/**
 * What a step was: an agent's model turn, tool call, recall, condensation or verdict (from
 * `maestro.events.work.step`), or Orion's own record (executor `orion`) of a preflight check, an
 * escalation of the subtask and its decision, or the memories it recalled for a plan or review.
 */
export type AgentStepKind = WorkStepEvent['kind'] | 'escalation' | 'decision';

/** One recorded step of a tactical agent. */
export interface AgentStepRecord {
  taskId: string;
  runId: string;
  subtaskId: string;
  executorId: string;
  step: number;
  kind: AgentStepKind;
  /** The tool's name for kind `tool`, else null. */
  tool: string | null;
  summary: string;
  ok: boolean;
  /** When the executor took the step, at millisecond precision. */
  at: Date;
  /** The work item's attempt as the step event reported it; null when the event had none. */
  attempt: number | null;
  /** For kind `recall`: every memory that went into the prompt, in prompt order. */
  recalled?: RecalledMemory[];
  /** For kind `condensation`: what the condensation did. */
  condensation?: Condensation;
  /** For kind `model`: the call as the router answered it; absent for other kinds and older steps. */
  modelCall?: WorkStepModelCall;
  /** How long the step took in milliseconds; absent when not measured. */
  durationMs?: number;
  /** For kind `tool`: its arguments as JSON text (bounded, marked when cut). */
  arguments?: string;
  /** For kind `tool`: what it observed (head and tail, marked when cut). */
  observation?: string;
}

/** What a step records beyond its summary, stored with it as one document. */
export type AgentStepDetails = Pick<AgentStepRecord, 'recalled' | 'condensation'>;

/** The details of a step to store; null when it has none (most steps). */
export function toStepDetails(step: AgentStepDetails): AgentStepDetails | null {
  const details: AgentStepDetails = {
    ...(step.recalled !== undefined ? { recalled: step.recalled } : {}),
    ...(step.condensation !== undefined ? { condensation: step.condensation } : {}),
  };
  return Object.keys(details).length > 0 ? details : null;
}

/** The fields a stored details document gives back to its step (none for null). */
export function fromStepDetails(details: AgentStepDetails | null): AgentStepDetails {
  if (details === null) return {};
  return {
    ...(details.recalled !== undefined ? { recalled: details.recalled } : {}),
    ...(details.condensation !== undefined ? { condensation: details.condensation } : {}),
  };
}

/** A recorded step with its position in storage order, as the store lists it. */
export interface StoredAgentStep extends AgentStepRecord {
  /** The step's storage sequence number: larger means stored later (unique across all steps). */
  seq: number;
}

/** A position in the listing order: just after the step whose `seq` it holds. */
export interface AgentStepCursor {
  seq: number;
}

/**
 * The record of a `maestro.events.work.step` event. Throws a `UserError` (the consumer
 * dead-letters the event) when its time is not a date or its step number or attempt is out of range,
 * because redelivering such an event could never store it.
 */
export function toAgentStepRecord(event: WorkStepEvent): AgentStepRecord {
  const millis = Date.parse(event.at);
  if (Number.isNaN(millis)) throw new UserError('STEP_EVENT_INVALID', `at: "${event.at}" is not a date`);
  if (event.step > MAX_STEP) throw new UserError('STEP_EVENT_INVALID', `step: ${event.step} is larger than ${MAX_STEP}`);
  if (event.attempt !== undefined && event.attempt > MAX_STEP) {
    throw new UserError('STEP_EVENT_INVALID', `attempt: ${event.attempt} is larger than ${MAX_STEP}`);
  }
  return {
    taskId: event.taskId,
    runId: event.runId,
    subtaskId: event.subtaskId,
    executorId: event.executorId,
    step: event.step,
    kind: event.kind,
    tool: event.tool ?? null,
    summary: event.summary,
    ok: event.ok,
    // Milliseconds only, as JavaScript dates have them: a cursor made from a listed step must
    // compare equal to the stored value, or paging would repeat it.
    at: new Date(millis),
    attempt: event.attempt ?? null,
    ...(event.recalled !== undefined ? { recalled: event.recalled } : {}),
    ...(event.condensation !== undefined ? { condensation: event.condensation } : {}),
    ...(event.modelCall !== undefined ? { modelCall: event.modelCall } : {}),
    // The column is an integer: a duration past it is not a measurement worth keeping.
    ...(event.durationMs !== undefined && event.durationMs <= MAX_STEP ? { durationMs: event.durationMs } : {}),
    ...(event.arguments !== undefined ? { arguments: event.arguments } : {}),
    ...(event.observation !== undefined ? { observation: event.observation } : {}),
  };
}

/** The cursor just after `step` (the `next_after` of a page ending with it). */
export function encodeStepCursor(step: Pick<StoredAgentStep, 'seq'>): string {
  // An object, so the old format (an array: time, subtask, executor, step) is told apart.
  return Buffer.from(JSON.stringify({ seq: step.seq }), 'utf8').toString('base64url');
}

const badCursor = () => invalidField('after', 'is not a cursor this service issued; pass the next_after of the previous page, or nothing for the first page');

// Cursors issued before the listing followed storage order held the last step's position by
// time; they cannot be mapped onto storage order without skipping or repeating steps.
const oldCursor = () =>
  invalidField('after', 'is a cursor from before steps were listed in storage order and can no longer be used; start again without after');

/** Reads a cursor made by {@link encodeStepCursor}; throws INVALID_ARGUMENT on `after` for anything else. */
export function decodeStepCursor(text: string): AgentStepCursor {
  let position: unknown;
  try {
    position = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw badCursor();
  }
  if (Array.isArray(position) && position.length === 4 && typeof position[0] === 'string' && typeof position[3] === 'number') {
    throw oldCursor();
  }
  if (typeof position !== 'object' || position === null || Array.isArray(position)) throw badCursor();
  const seq = (position as { seq?: unknown }).seq;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) throw badCursor();
  return { seq };
}

/** ListAgentSteps' fields as the gRPC request carries them (empty string / 0 = absent). */
export interface AgentStepListInput {
  taskId: string;
  runId: string;
  subtaskId: string;
  limit: number;
  after: string;
}

/** A validated listing: whose steps, which subtask, how many, from where. */
export interface AgentStepQuery {
  /** Only steps of this tenant's tasks. @default every tenant's */
  tenant?: string;
  /** Exactly one of `taskId` and `runId` is set. */
  taskId?: string;
  runId?: string;
  subtaskId?: string;
  limit: number;
  after?: AgentStepCursor;
}

function checkId(field: string, value: string): void {
  if (value.length > AgentStepLimits.idMaxChars) {
    throw invalidField(field, `is ${value.length} characters; at most ${AgentStepLimits.idMaxChars} are allowed`);
  }
}

/**
 * Checks a ListAgentSteps request: exactly one of task_id and run_id, a limit of at most
 * {@link AgentStepLimits.maxLimit} (0 → the default), a cursor this service issued. Every
 * failure is INVALID_ARGUMENT naming the field.
 */
export function validateAgentStepQuery(input: AgentStepListInput): AgentStepQuery {
  const taskId = input.taskId.trim();
  const runId = input.runId.trim();
  const subtaskId = input.subtaskId.trim();
  if (taskId === '' && runId === '') {
    throw invalidField('task_id', 'is required unless run_id is given (give exactly one of task_id and run_id)');
  }
  if (taskId !== '' && runId !== '') {
    throw invalidField('run_id', 'must be empty when task_id is given (give exactly one of task_id and run_id)');
  }
  checkId('task_id', taskId);
  checkId('run_id', runId);
  checkId('subtask_id', subtaskId);
  if (!Number.isInteger(input.limit) || input.limit < 0) {
    throw invalidField('limit', `must be 0 (the default, ${AgentStepLimits.defaultLimit}) or a positive number, got ${input.limit}`);
  }
  if (input.limit > AgentStepLimits.maxLimit) throw invalidField('limit', `must be at most ${AgentStepLimits.maxLimit}, got ${input.limit}`);
  return {
    ...(taskId !== '' ? { taskId } : { runId }),
    ...(subtaskId !== '' ? { subtaskId } : {}),
    limit: input.limit === 0 ? AgentStepLimits.defaultLimit : input.limit,
    ...(input.after !== '' ? { after: decodeStepCursor(input.after) } : {}),
  };
}
