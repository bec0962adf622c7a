/**
 * `plan`: recalls what memory knows about the project (within the prompt's memory budget,
 * recorded as a `recall` step), asks the strategic model to split the goal into subtasks,
 * validates the reply and stores the subtasks. A redelivery of the same
 * request returns the stored plan instead of asking the model again; a new attempt replaces
 * the plan (in one transaction, so subtasks are never duplicated).
 */
import { declareConcerns } from '../app/declare-concerns.js';
import { parsePlanReply, type PlannedSubtask } from '../domain/plan.js';
import { buildPlanPrompt, PLAN_REPLY_FORMAT } from '../domain/prompts.js';
import { toRecallQuery } from '../domain/recall-query.js';
import type { SubtaskRecord } from '../domain/task.js';
import { assertTaskActive, completed, requireTask, type Activity } from './activity.js';
import { askUntilParsed } from './model-call.js';
import { recallForPrompt } from './recall-memory.js';

function planOutput(subtasks: ReadonlyArray<PlannedSubtask | SubtaskRecord>): Array<Record<string, unknown>> {
  return subtasks.map((s) => ({
    id: s.id,
    title: s.title,
    instructions: s.instructions,
    files: s.files,
    ...(s.dependsOn.length > 0 ? { dependsOn: s.dependsOn } : {}),
    ...(s.resources.length > 0 ? { resources: s.resources } : {}),
  }));
}

/** Output: `{ subtasks: [{ id, title, instructions, files, dependsOn?, resources? }], model: { provider, model, scripted } }`. */
export const planActivity: Activity = async (invocation) => {
  const { request, deps, logger } = invocation;
  const { task, subtasks } = await requireTask(invocation);
  if (task.planWorkId === request.workId && subtasks.length > 0) {
    logger.info('plan request redelivered; returning the stored plan', { subtasks: subtasks.length });
    return completed({ subtasks: planOutput(subtasks) });
  }

  // Memory is optional: an outage costs the notes, never the plan (see recall-memory.ts).
  const notes = await recallForPrompt(invocation, task, 'plan', toRecallQuery(task.goal));
  const files = await deps.repoProbe.listFiles(task.repoPath);
  const messages = buildPlanPrompt({ goal: task.goal, project: task.project, testCommand: task.testCommand, files, notes });
  // A reply that does not parse is asked again with the parse error before the plan fails.
  const { value: plan, model, reAsks } = await askUntilParsed({ ...invocation, task }, 'plan', messages, {
    parse: parsePlanReply,
    replyFormat: PLAN_REPLY_FORMAT,
    reAsks: deps.options?.replyReAsks ?? 2,
  });

  const declared = await declareConcerns(task.repoPath, plan.subtasks, deps.repoProbe);
  const stored = await deps.store.withLockedTask(task.id, async (locked) => {
    // The task may have ended (cancelled) while the model was thinking: store nothing then.
    assertTaskActive(locked.task);
    if (locked.task.planWorkId === request.workId) {
      const existing = await locked.subtasks();
      if (existing.length > 0) return existing;
    }
    const replaced = await locked.replaceSubtasks(declared);
    // A new plan makes any earlier dispatch meaningless; its results will be ignored.
    await locked.update({ planWorkId: request.workId, code: null });
    return replaced;
  });
  logger.info('plan stored', { subtasks: plan.subtasks.length, scripted: model.scripted, reAsks });
  return completed({ subtasks: planOutput(stored ?? plan.subtasks), model: { ...model } });
};
