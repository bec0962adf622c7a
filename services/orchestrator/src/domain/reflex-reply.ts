/**
 * The strategic model's reflex proposal: its reply to the `reflect` prompt must be JSON
 * (optionally in a ```json fence): `{"lesson": "…"}`. Parsed and validated here; a reply that
 * does not fit is a `UserError`, which the caller puts back to the model. The model only words
 * the lesson: the topic memory files it under is always the failure's signature
 * (`reflex-rule.ts` `topicOf`), so a model rewording it cannot split or churn lessons on one
 * failure. A `topic` a reply still carries is accepted and ignored. Also who a proposal is
 * attributed to: a scripted reply is never presented as a model's.
 */
import { UserError } from '@maestro/runtime';
import { z } from 'zod';
import type { DecidingModel } from './escalations.js';
import { extractJsonText, formatIssues, quoteReply, tryParseJson } from './model-reply.js';
import type { ReflexProposal } from './reflex-learning.js';
import { ReflexLimits } from './reflex-rule.js';

/** Error code of a reflect reply that cannot be used. */
export const REFLECT_REPLY_INVALID = 'REFLECT_REPLY_INVALID';

/** The reply's shape (other fields, such as a `topic` older prompts asked for, are ignored). */
export const ReflectReplySchema = z.object({
  lesson: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(ReflexLimits.lessonMaxChars, `must be at most ${ReflexLimits.lessonMaxChars} characters`),
});

/** Parses a reflect reply into its lesson; throws a `UserError` quoting the reply when it does not fit. */
export function parseReflectReply(reply: string): Pick<ReflexProposal, 'lesson'> {
  const json = tryParseJson(extractJsonText(reply));
  if (!json.ok) {
    throw new UserError(REFLECT_REPLY_INVALID, `the reflect reply is not JSON (${json.error}); reply was ${quoteReply(reply)}`, { reason: 'invalid' });
  }
  const parsed = ReflectReplySchema.safeParse(json.value);
  if (!parsed.success) {
    throw new UserError(REFLECT_REPLY_INVALID, `the reflect reply does not have the expected shape: ${formatIssues(parsed.error)}; reply was ${quoteReply(reply)}`, {
      reason: 'invalid',
    });
  }
  return { lesson: parsed.data.lesson.replace(/\s+/g, ' ') };
}

/**
 * Who a model's proposal is attributed to: `model:<provider>/<model>`, or `scripted:<model>`
 * when the router's scripted provider replied (a script is not a model).
 */
export function modelAuthor(model: DecidingModel): string {
  return model.scripted ? `scripted:${model.model || model.provider || 'script'}` : `model:${model.provider}/${model.model}`;
}
