/**
 * The shape of a workflow definition document: an XState-style JSON machine config, flat
 * (no nested, parallel or history states), with guards and actions named from registries and
 * our extensions, `meta.activity` and `meta.timeoutMs`. Only the shape lives here; references between parts
 * (targets, names in registries) are checked by `validateDefinition`.
 */
import { WORKFLOW_NAME_PATTERN } from '@maestro/contracts';
import { z } from 'zod';

/** What a state or definition id may be called: safe as an XState key and in a NATS subject. */
export const NAME_PATTERN = new RegExp(WORKFLOW_NAME_PATTERN);

const name = z
  .string()
  .regex(NAME_PATTERN, 'must start with a letter or "_" and hold only letters, digits, "_" and "-"');

const nonEmpty = z.string().min(1, 'must not be empty');

/** One action name or a list of them, run in order. */
const actionList = z.union([nonEmpty, z.array(nonEmpty)]);

/** A transition written as an object: where to go, when, and what to do on the way. */
export const TransitionObjectSchema = z.strictObject({
  /** A state of this definition; absent means "stay, but run the actions". */
  target: nonEmpty.optional(),
  /** The name of a guard from the guard registry. */
  guard: nonEmpty.optional(),
  /** Names of actions from the action registry. */
  actions: actionList.optional(),
  /** Exit and re-enter when the target is the current state (a retry: new attempt). */
  reenter: z.boolean().optional(),
  description: z.string().optional(),
});
/** A transition in its object spelling. */
export type TransitionObject = z.infer<typeof TransitionObjectSchema>;

/**
 * A transition in any of XState's three spellings: a target name, an object, or a list of
 * objects tried in order (the first whose guard passes wins).
 */
export type TransitionSpec = string | TransitionObject | TransitionObject[];

/**
 * Picks the branch by the value's JS type before parsing, so an error points into the
 * spelling the author used instead of zod's "no union member matched".
 */
const transitionSpec = z.unknown().superRefine((value, ctx) => {
  const schema = typeof value === 'string' ? nonEmpty : Array.isArray(value) ? z.array(TransitionObjectSchema).min(1, 'must not be empty') : TransitionObjectSchema;
  const result = schema.safeParse(value);
  if (result.success) return;
  for (const issue of result.error.issues) {
    ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
  }
}) as unknown as z.ZodType<TransitionSpec>;

/** Reserved for XState's own events; definitions may not handle them. */
const eventType = nonEmpty.refine((t) => !t.startsWith('xstate.'), 'event types starting with "xstate." are reserved');

/** The longest activity timeout a definition may set: a week (longer work should report progress as steps). */
export const MAX_ACTIVITY_TIMEOUT_MS = 7 * 24 * 60 * 60 * 1000;

/** `meta` of a state: our extensions (`activity`, `timeoutMs`, `status`) plus anything a viewer wants to keep. */
export const StateMetaSchema = z
  .object({
    /** On entry, request this activity (a name from the activity registry). */
    activity: nonEmpty.optional(),
    /**
     * How long one attempt of the activity may take, in milliseconds from entering the state;
     * past it the engine sends `activity.failed` with code `ACTIVITY_TIMEOUT`. Only on a state
     * with an activity. Absent: the run waits for the result however long it takes.
     */
    timeoutMs: z.number().int('must be a whole number of milliseconds').positive('must be positive').max(MAX_ACTIVITY_TIMEOUT_MS, `must be at most ${MAX_ACTIVITY_TIMEOUT_MS} (a week)`).optional(),
    /** For final states: the run status it means. @default the state name when it is done/failed/cancelled, else "done" */
    status: z.enum(['done', 'failed', 'cancelled']).optional(),
  })
  .catchall(z.unknown());

/** One state of the machine. */
export const StateNodeSchema = z.strictObject({
  type: z.enum(['atomic', 'final'], 'must be "atomic" or "final" (parallel and history states are not supported)').optional(),
  description: z.string().optional(),
  entry: actionList.optional(),
  exit: actionList.optional(),
  on: z.record(eventType, transitionSpec).optional(),
  /** Eventless transitions, taken as soon as their guard passes. */
  always: transitionSpec.optional(),
  meta: StateMetaSchema.optional(),
});
/** One state of a definition document. */
export type StateNode = z.infer<typeof StateNodeSchema>;

/** A whole definition document. */
export const DefinitionDocumentSchema = z.strictObject({
  id: name,
  description: z.string().optional(),
  initial: nonEmpty,
  /** The initial context; the engine adds `input` (from StartRun) and `outputs` ({}). */
  context: z.record(z.string(), z.unknown()).optional(),
  states: z.record(name, StateNodeSchema).refine((s) => Object.keys(s).length > 0, 'must define at least one state'),
  meta: z.record(z.string(), z.unknown()).optional(),
});

/** A definition document that passed the shape check. */
export type DefinitionDocument = z.infer<typeof DefinitionDocumentSchema>;

/**
 * Formats a path into a document the way a JS reader would write it:
 * `states.plan.on["activity.done"].target`, `states.review.on.CANCEL[1].guard`.
 */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}
