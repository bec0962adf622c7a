/**
 * `review`: shows the strategic model the goal and each subtask's evidence (summary, files
 * changed, commit, test run), stores its verdict, then delivers the task's work as the workflow
 * asks (`context.delivery`: the task branch left for review, or the user's branch
 * fast-forwarded when safe; see `domain/delivery.ts`) and stores what delivery did. A
 * redelivery of the same request returns the stored verdict and delivery (delivering only if
 * that had not been stored yet). A rejection is still a completed activity: the verdict is
 * data, and the workflow definition decides what `approved: false` leads to.
 */
import { z } from 'zod';
import { deliverTask } from '../app/deliver-task.js';
import { deliveryModeOf, type TaskDelivery } from '../domain/delivery.js';
import { buildReviewPrompt, REVIEW_REPLY_FORMAT, type ReviewSubtaskEvidence } from '../domain/prompts.js';
import { parseReviewReply } from '../domain/review.js';
import type { SubtaskRecord, TaskRecord } from '../domain/task.js';
import { GitBranchDelivery } from '../store/git-branch-delivery.js';
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

/** The git adapter used when the activity's deps name none. */
const defaultBranchDelivery = new GitBranchDelivery();

/**
 * Delivers the task's work after the verdict and stores the outcome, unless this review request
 * stored one already. Stored even if the task ended meanwhile: it records what was done.
 */
async function deliver(invocation: Parameters<Activity>[0], task: TaskRecord, approved: boolean): Promise<TaskDelivery> {
  const { request, deps, logger } = invocation;
  if (task.reviewWorkId === request.workId && task.delivery !== null) return task.delivery;
  const choice = deliveryModeOf(request.context);
  const delivery = await deliverTask(task, approved, choice, deps.branchDelivery ?? defaultBranchDelivery);
  await deps.store.withLockedTask(task.id, (locked) => locked.update({ delivery, deliveryMode: delivery.mode }));
  logger.info('task delivered', { ...delivery, ...(choice.ok ? {} : { problem: choice.problem }) });
  return delivery;
}

/** Output: `{ approved, summary, model: { provider, model, scripted }, delivery: { mode, branch, sha, delivered, reason } }`. */
export const reviewActivity: Activity = async (invocation) => {
  const { request, deps, logger } = invocation;
  const { task, subtasks } = await requireTask(invocation);
  if (task.reviewWorkId === request.workId && task.reviewSummary !== null && task.reviewApproved !== null) {
    logger.info('review request redelivered; returning the stored verdict');
    const delivery = await deliver(invocation, task, task.reviewApproved);
    return completed({ approved: task.reviewApproved, summary: task.reviewSummary, delivery: { ...delivery } });
  }

  const messages = buildReviewPrompt({ goal: task.goal, testCommand: task.testCommand, subtasks: subtasks.map(evidenceOf) });
  // A reply that does not parse is asked again with the parse error before the review fails.
  const { value: verdict, model, reAsks } = await askUntilParsed({ ...invocation, task }, 'review', messages, {
    parse: parseReviewReply,
    replyFormat: REVIEW_REPLY_FORMAT,
    reAsks: deps.options?.replyReAsks ?? 2,
  });
  const stored = await deps.store.withLockedTask(task.id, (locked) => {
    // The task may have ended (cancelled) while the model was thinking: store nothing then.
    assertTaskActive(locked.task);
    // A new verdict: whatever an earlier review attempt delivered no longer stands.
    return locked.update({ reviewSummary: verdict.summary, reviewApproved: verdict.approved, reviewWorkId: request.workId, delivery: null });
  });
  logger.info('review stored', { approved: verdict.approved, scripted: model.scripted, reAsks });
  const delivery = await deliver(invocation, stored ?? task, verdict.approved);
  return completed({ approved: verdict.approved, summary: verdict.summary, model: { ...model }, delivery: { ...delivery } });
};
