/**
 * Orion's recall for its own prompts (plan and review): asks memory for the project's memories and
 * those of the task's scopes (`user:<id>`, `team:<id>`, as submitted), keeps what fits the prompt's
 * memory budget (`domain/recall-budget.ts`), and records a `recall` step of the task listing
 * exactly the memories that went into the prompt (id, kind, score, why, content as sent), under
 * subtask `plan` or `review`, executor `orion`.
 *
 * Memory makes plans and reviews better but is not required: a failing or slow memory costs the
 * notes, never the activity (the step then says so, with `ok: false` and nothing recalled). A
 * refusal (`UserError`) is logged at error level, because it means Orion sent something memory
 * cannot take, a bug to fix here; an unavailable memory is an operational matter (warn). A step
 * that cannot be recorded is logged and the activity goes on.
 */
import { RecallRequest, type RecalledMemory } from '@maestro/contracts';
import { countTokens } from '@maestro/llm';
import { toMaestroError, UserError } from '@maestro/runtime';
import { ORION_STEP_EXECUTOR } from '../domain/escalations.js';
import type { MemoryNote } from '../domain/prompts.js';
import { fitRecallToBudget, RecallBudgetDefaults, type FittedRecall } from '../domain/recall-budget.js';
import type { TaskRecord } from '../domain/task.js';
import type { ActivityInvocation } from './activity.js';

/** Which of Orion's prompts the notes are for; also the subtask id its `recall` step is recorded under. */
export type RecallPurpose = 'plan' | 'review' | 'answer';

/** Longest step summary stored. */
const MAX_SUMMARY = 500;

function summaryOf(purpose: RecallPurpose, fitted: FittedRecall, budget: number, recalledCount: number, warning: string): string {
  const what = fitted.notes.length === 0 ? 'no memories' : `${fitted.notes.length} memor${fitted.notes.length === 1 ? 'y' : 'ies'}`;
  const room = recalledCount > fitted.notes.length || fitted.cut ? `; ${fitted.leftOut} of ${recalledCount} recalled did not fit whole` : '';
  const degraded = warning !== '' ? `; memory warned: ${warning}` : '';
  const text = `recalled ${what} for the ${purpose} prompt (${fitted.tokens} of ${budget} tokens)${room}${degraded}`;
  return text.length <= MAX_SUMMARY ? text : `${text.slice(0, MAX_SUMMARY - 1)}…`;
}

async function recordStep(invocation: ActivityInvocation, task: TaskRecord, purpose: RecallPurpose, summary: string, ok: boolean, recalled: RecalledMemory[]): Promise<void> {
  const { deps, request, logger } = invocation;
  if (deps.steps === undefined) return;
  try {
    await deps.steps.record({
      taskId: task.id,
      runId: request.runId,
      subtaskId: purpose,
      executorId: ORION_STEP_EXECUTOR,
      step: 0,
      kind: 'recall',
      tool: null,
      summary,
      ok,
      at: new Date(deps.clock.now()),
      attempt: request.attempt,
      recalled,
    });
  } catch (err) {
    logger.warn('recall step not recorded', { err, purpose });
  }
}

/**
 * Recalls memory notes for one of Orion's prompts and records the `recall` step; resolves to the
 * notes for the prompt (empty when memory failed or nothing fits). Throws only when the
 * invocation was aborted (shutting down: the request goes back to the queue rather than being
 * served without notes).
 */
export async function recallForPrompt(invocation: ActivityInvocation, task: TaskRecord, purpose: RecallPurpose, query: string): Promise<MemoryNote[]> {
  const { deps, logger, signal } = invocation;
  const budget = deps.options?.memoryTokens ?? RecallBudgetDefaults.tokens;
  try {
    // The project's memories, and those of the users and teams the task was submitted for.
    const request = RecallRequest.fromPartial({ tenant: task.tenant, project: task.project, scopes: task.memoryScopes, query, limit: deps.options?.recallLimit ?? RecallBudgetDefaults.limit });
    const response = await deps.memory.recall(request, { deadlineMs: deps.options?.memoryDeadlineMs ?? RecallBudgetDefaults.deadlineMs, signal });
    const scored = response.memories.flatMap((m) =>
      m.memory ? [{ id: m.memory.id, kind: m.memory.kind, content: m.memory.content.replace(/\s+/g, ' ').trim(), score: m.score, why: m.why }] : [],
    );
    const fitted = fitRecallToBudget(scored, budget, (text) => countTokens(text));
    if (response.warning !== '') logger.warn('memory recall was degraded', { purpose, warning: response.warning });
    logger.info('memory recalled', { purpose, scopes: task.memoryScopes, recalled: scored.length, used: fitted.notes.length, tokens: fitted.tokens, budget, vectorSearch: response.vectorSearch });
    await recordStep(invocation, task, purpose, summaryOf(purpose, fitted, budget, scored.length, response.warning), true, fitted.recalled);
    return fitted.notes;
  } catch (err) {
    if (signal.aborted) throw err;
    const error = toMaestroError(err);
    const fields = { code: error.code, message: error.message, queryChars: query.length, purpose };
    const going = purpose === 'plan' ? 'planning' : 'reviewing';
    if (error instanceof UserError) logger.error(`memory refused the recall query; ${going} without notes`, fields);
    else logger.warn(`memory recall failed; ${going} without notes`, fields);
    await recordStep(invocation, task, purpose, `memory recall failed (${error.code}): the ${purpose} prompt has no memory notes`.slice(0, MAX_SUMMARY), false, []);
    return [];
  }
}
