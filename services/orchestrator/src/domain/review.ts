/**
 * The review verdict: the strategic model's judgement of the finished work. Its reply must be
 * JSON (optionally in a ```json fence): `{"approved": true|false, "summary": "…"}`.
 */
import { UserError } from '@maestro/runtime';
import { z } from 'zod';
import { extractJsonText, formatIssues, quoteReply, tryParseJson } from './model-reply.js';

/** The verdict's shape; `approved` must be a real boolean, not the string "true". */
export const ReviewVerdictSchema = z.object({
  approved: z.boolean(),
  summary: z.string().trim().min(1, 'must not be empty').max(20_000, 'must be at most 20000 characters'),
});
export type ReviewVerdict = z.infer<typeof ReviewVerdictSchema>;

/** Error code of a review reply that cannot be used. */
export const REVIEW_REPLY_INVALID = 'REVIEW_REPLY_INVALID';

/** Parses the review reply; throws a `UserError` quoting the reply when it does not fit. */
export function parseReviewReply(reply: string): ReviewVerdict {
  const json = tryParseJson(extractJsonText(reply));
  if (!json.ok) {
    throw new UserError(REVIEW_REPLY_INVALID, `the review reply is not JSON (${json.error}); reply was ${quoteReply(reply)}`, {
      reason: 'invalid',
    });
  }
  const parsed = ReviewVerdictSchema.safeParse(json.value);
  if (!parsed.success) {
    throw new UserError(
      REVIEW_REPLY_INVALID,
      `the review reply does not have the expected shape: ${formatIssues(parsed.error)}; reply was ${quoteReply(reply)}`,
      { reason: 'invalid' },
    );
  }
  return parsed.data;
}
