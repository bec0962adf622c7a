/**
 * The strategic model's answer to an escalation. Its reply must be JSON (optionally in a ```json
 * fence) of the shape
 * `{"decision":"hint|replan|takeover|abandon","reason":"…","hint":"…","subtasks":[{"title":"…","instructions":"…","files":["…"]}]}`:
 * `hint` is required for a hint, `subtasks` (1 to {@link MAX_REPLAN_SUBTASKS}) for a re-plan, and
 * ignored otherwise. A reply that does not parse or does not fit is rejected with a reason that
 * quotes what was wrong, so it can be put back to the model.
 */
import { UserError } from '@maestro/runtime';
import { z } from 'zod';
import { extractJsonText, formatIssues, quoteReply, tryParseJson } from './model-reply.js';
import { WorkspacePathSchema } from './plan.js';

/** Most subtasks a re-plan may put in place of the failed one. */
export const MAX_REPLAN_SUBTASKS = 5;

/** The four choices the strategic model has. */
export const StrategicDecisionKinds = {
  /** The subtask runs again, with the hint shown to the agent. */
  hint: 'hint',
  /** The subtask is replaced by new subtasks. */
  replan: 'replan',
  /** The strategic model works the subtask itself. */
  takeover: 'takeover',
  /** The task fails with the model's reason. */
  abandon: 'abandon',
} as const;
export type StrategicDecisionKind = (typeof StrategicDecisionKinds)[keyof typeof StrategicDecisionKinds];

/** A subtask of a re-plan; its id is Orion's to give (see `replanSubtaskIds`). */
export const ReplanSubtaskSchema = z.object({
  title: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
  instructions: z.string().trim().min(1, 'must not be empty').max(20_000, 'must be at most 20000 characters'),
  files: z.array(WorkspacePathSchema).max(50, 'must list at most 50 files').default([]),
});
export type ReplanSubtask = z.infer<typeof ReplanSubtaskSchema>;

const reason = z.string().trim().min(1, 'must not be empty').max(5_000, 'must be at most 5000 characters');
const hint = z.string().trim().min(1, 'must not be empty').max(10_000, 'must be at most 10000 characters');

/** The decision's shape, by kind. */
export const StrategicDecisionSchema = z.discriminatedUnion('decision', [
  z.object({ decision: z.literal('hint'), reason, hint }),
  z.object({
    decision: z.literal('replan'),
    reason,
    subtasks: z
      .array(ReplanSubtaskSchema)
      .min(1, 'must contain at least one subtask')
      .max(MAX_REPLAN_SUBTASKS, `must contain at most ${MAX_REPLAN_SUBTASKS} subtasks`),
  }),
  z.object({ decision: z.literal('takeover'), reason, hint: hint.optional() }),
  z.object({ decision: z.literal('abandon'), reason }),
]);
export type StrategicDecision = z.infer<typeof StrategicDecisionSchema>;

/** Error code of an escalation reply that cannot be used. */
export const ESCALATION_REPLY_INVALID = 'ESCALATION_REPLY_INVALID';

/**
 * Parses the strategic model's escalation reply. Throws a `UserError` (code
 * {@link ESCALATION_REPLY_INVALID}) whose message says what was wrong and quotes the reply.
 */
export function parseEscalationDecision(reply: string): StrategicDecision {
  const json = tryParseJson(extractJsonText(reply));
  if (!json.ok) {
    throw new UserError(ESCALATION_REPLY_INVALID, `the escalation reply is not JSON (${json.error}); reply was ${quoteReply(reply)}`, {
      reason: 'invalid',
    });
  }
  const parsed = StrategicDecisionSchema.safeParse(json.value);
  if (!parsed.success) {
    throw new UserError(
      ESCALATION_REPLY_INVALID,
      `the escalation reply does not have the expected shape: ${formatIssues(parsed.error)}; reply was ${quoteReply(reply)}`,
      { reason: 'invalid' },
    );
  }
  return parsed.data;
}
