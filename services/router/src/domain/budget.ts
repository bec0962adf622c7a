/**
 * Task budgets: what a task may spend on models, checked before every call. Concurrent agents
 * of a task each check the recorded spend before their call, so together they overspend by at
 * most one call each.
 */
import { invalidField, UserError } from '@maestro/runtime';

/** Error code of a call refused because its task has spent its budget. */
export const BUDGET_EXHAUSTED = 'BUDGET_EXHAUSTED';

/** A task's limits; 0 means no limit. */
export interface TaskBudget {
  usd: number;
  tokens: number;
}

/** Validates the budget fields of a request, naming the field (`budget_usd`, `budget_tokens`). */
export function validateBudget(raw: { budgetUsd: number; budgetTokens: number }): TaskBudget {
  if (!Number.isFinite(raw.budgetUsd) || raw.budgetUsd < 0) throw invalidField('budget_usd', `must be a non-negative number (0 = no limit), got ${raw.budgetUsd}`);
  if (!Number.isInteger(raw.budgetTokens) || raw.budgetTokens < 0) {
    throw invalidField('budget_tokens', `must be a non-negative integer (0 = no limit), got ${raw.budgetTokens}`);
  }
  return { usd: raw.budgetUsd, tokens: raw.budgetTokens };
}

/** True when the budget limits anything. */
export function hasLimit(budget: TaskBudget): boolean {
  return budget.usd > 0 || budget.tokens > 0;
}

/**
 * Throws `BUDGET_EXHAUSTED` (a `UserError`, FAILED_PRECONDITION) when `spent` has reached a
 * limit, with the totals in the message and details.
 */
export function assertWithinBudget(taskId: string, budget: TaskBudget, spent: { tokens: number; usd: number }): void {
  const overTokens = budget.tokens > 0 && spent.tokens >= budget.tokens;
  const overUsd = budget.usd > 0 && spent.usd >= budget.usd;
  if (!overTokens && !overUsd) return;
  const what = [
    overTokens ? `${spent.tokens} of ${budget.tokens} tokens` : undefined,
    overUsd ? `$${spent.usd.toFixed(4)} of $${budget.usd.toFixed(4)}` : undefined,
  ].filter((x) => x !== undefined);
  throw new UserError(BUDGET_EXHAUSTED, `task ${taskId} has spent its budget (${what.join(', ')}); no more model calls are made for it`, {
    reason: 'precondition',
    details: { taskId, spentTokens: spent.tokens, spentUsd: spent.usd, budgetTokens: budget.tokens, budgetUsd: budget.usd },
  });
}
