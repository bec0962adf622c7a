/**
 * `review`: shows the strategic model the goal, each subtask's evidence (summary, files
 * changed, commit, test run) and what memory knows about the work (recalled within the prompt's
 * memory budget and recorded as a `recall` step; an outage costs the notes, never the review),
 * stores its verdict, then delivers the task's work as the workflow
 * asks (`context.delivery`: the task branch left for review, or the user's branch
 * fast-forwarded when safe; see `domain/delivery.ts`) and stores what delivery did. The task
 * branch's commit is read *before* the evidence and stored with the verdict (`reviewSha`):
 * delivery delivers exactly that commit, and nothing when the branch moved on since. A
 * redelivery of the same request returns the stored verdict and delivery (delivering only if
 * that had not been stored yet). A rejection is still a completed activity: the verdict is
 * data, and the workflow definition decides what `approved: false` leads to.
 */
import { z } from 'zod';
import { deliverTask } from '../app/deliver-task.js';
import { deliveryModeOf, taskBranchName, type TaskDelivery } from '../domain/delivery.js';
import { buildReviewPrompt, REVIEW_REPLY_FORMAT, type ReviewSubtaskEvidence } from '../domain/prompts.js';
import { toReviewRecallQuery } from '../domain/recall-query.js';
import { parseReviewReply } from '../domain/review.js';
import type { SubtaskRecord, TaskRecord } from '../domain/task.js';
import { assertTaskActive, completed, requireTask, type Activity } from './activity.js';
import { askUntilParsed } from './model-call.js';
import { recallForPrompt } from './recall-memory.js';

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

/**
 * Delivers the task's work after the verdict and stores the outcome, unless this review request
 * stored one already. Stored even if the task ended meanwhile: it records what was done.
 */
async function deliver(invocation: Parameters<Activity>[0], task: TaskRecord, approved: boolean): Promise<TaskDelivery> {
  const { request, deps, logger } = invocation;
  if (task.reviewWorkId === request.workId && task.delivery !== null) return task.delivery;
  const choice = deliveryModeOf(request.context);
  const delivery = await deliverTask(task, { approved, sha: task.reviewSha }, choice, deps.branchDelivery);
  await deps.store.withLockedTask(task.id, (locked) => locked.update({ delivery, deliveryMode: delivery.mode }));
  logger.info('task delivered', { ...delivery, ...(choice.ok ? {} : { problem: choice.problem }) });
  return delivery;
}

/** Output: `{ approved, summary, model: { provider, model, scripted }, delivery: { mode, branch, sha, delivered, reason } }`. */
export const reviewActivity: Activity = async (invocation) => {
  const { request, deps, logger } = invocation;
  const first = await requireTask(invocation);
  if (first.task.reviewWorkId === request.workId && first.task.reviewSummary !== null && first.task.reviewApproved !== null) {
    logger.info('review request redelivered; returning the stored verdict');
    const delivery = await deliver(invocation, first.task, first.task.reviewApproved);
    return completed({ approved: first.task.reviewApproved, summary: first.task.reviewSummary, delivery: { ...delivery } });
  }
  // The commit under review, read before the evidence (a subtask's result is recorded after its
  // merge, so the evidence read next covers every merge this commit holds).
  const reviewSha = (await deps.branchDelivery.branchSha(first.task.repoPath, taskBranchName(first.task.id))) ?? '';
  const { task, subtasks } = await requireTask(invocation);

  const notes = await recallForPrompt(invocation, task, 'review', toReviewRecallQuery(task.goal, subtasks.filter((s) => s.status !== 'replaced').map((s) => s.title)));
  const messages = buildReviewPrompt({ goal: task.goal, testCommand: task.testCommand, subtasks: subtasks.map(evidenceOf), notes });
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
    return locked.update({ reviewSummary: verdict.summary, reviewApproved: verdict.approved, reviewWorkId: request.workId, reviewSha, delivery: null });
  });
  logger.info('review stored', { approved: verdict.approved, scripted: model.scripted, reAsks, reviewSha });
  const delivery = await deliver(invocation, stored ?? { ...task, reviewSha }, verdict.approved);
  return completed({ approved: verdict.approved, summary: verdict.summary, model: { ...model }, delivery: { ...delivery } });
};
