/**
 * `review`: shows the strategic model the goal and each subtask's evidence (summary, files
 * changed, commit, test run) and stores its verdict. A redelivery of the same request returns
 * the stored verdict. A rejection is still a completed activity: the verdict is data, and the
 * workflow definition decides what `approved: false` leads to.
 */
import { z } from 'zod';
import { buildReviewPrompt, REVIEW_REPLY_FORMAT, type ReviewSubtaskEvidence } from '../domain/prompts.js';
import { parseReviewReply } from '../domain/review.js';
import type { SubtaskRecord } from '../domain/task.js';
import { assertTaskActive, completed, requireTask, type Activity } from './activity.js';
import { askUntilParsed } from './model-call.js';

const TestsEvidenceSchema = z.object({
  command: z.array(z.string()),
  exitCode: z.number().int().nullable(),
  passed: z.boolean(),
  outputTail: z.string(),
});

function evidenceOf(subtask: SubtaskRecord): ReviewSubtaskEvidence {
  const tests = TestsEvidenceSchema.safeParse(subtask.result?.tests);
  return {
    id: subtask.id,
    title: subtask.title,
    status: subtask.status,
    summary: subtask.summary,
    filesChanged: subtask.filesChanged,
    commitSha: subtask.commitSha,
    failureReason: subtask.failureReason,
    tests: tests.success ? tests.data : undefined,
  };
}

/** Output: `{ approved, summary, model: { provider, model, scripted } }`. */
export const reviewActivity: Activity = async (invocation) => {
  const { request, deps, logger } = invocation;
  const { task, subtasks } = await requireTask(invocation);
  if (task.reviewWorkId === request.workId && task.reviewSummary !== null && task.reviewApproved !== null) {
    logger.info('review request redelivered; returning the stored verdict');
    return completed({ approved: task.reviewApproved, summary: task.reviewSummary });
  }

  const messages = buildReviewPrompt({ goal: task.goal, testCommand: task.testCommand, subtasks: subtasks.map(evidenceOf) });
  // A reply that does not parse is asked again with the parse error before the review fails.
  const { value: verdict, model, reAsks } = await askUntilParsed({ ...invocation, task }, 'review', messages, {
    parse: parseReviewReply,
    replyFormat: REVIEW_REPLY_FORMAT,
    reAsks: deps.options?.replyReAsks ?? 2,
  });
  await deps.store.withLockedTask(task.id, (locked) => {
    // The task may have ended (cancelled) while the model was thinking: store nothing then.
    assertTaskActive(locked.task);
    return locked.update({ reviewSummary: verdict.summary, reviewApproved: verdict.approved, reviewWorkId: request.workId });
  });
  logger.info('review stored', { approved: verdict.approved, scripted: model.scripted, reAsks });
  return completed({ approved: verdict.approved, summary: verdict.summary, model: { ...model } });
};
