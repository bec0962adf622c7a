/**
 * The usage fact published after every completion (`maestro.events.llm.completed`).
 */
import type { LlmCompletedEvent } from '@maestro/contracts';
import type { Usage } from '@maestro/llm';
import type { CompletionPlan } from './complete-request.js';
import type { RouteDecision } from './routing.js';

/** Builds the event for one finished completion. */
export function toLlmCompletedEvent(
  plan: CompletionPlan,
  decision: RouteDecision,
  outcome: { usage: Usage; costUsd: number; priced: boolean; servedBy?: string; durationMs: number; scripted: boolean; at: Date },
): LlmCompletedEvent {
  return {
    role: decision.role,
    intent: plan.phase,
    provider: decision.provider,
    model: decision.model,
    scripted: outcome.scripted,
    inputTokens: outcome.usage.inputTokens,
    outputTokens: outcome.usage.outputTokens,
    cachedInputTokens: outcome.usage.cachedInputTokens ?? 0,
    reasoningTokens: outcome.usage.reasoningTokens ?? 0,
    costUsd: outcome.costUsd,
    priced: outcome.priced,
    ...(outcome.servedBy !== undefined ? { servedBy: outcome.servedBy } : {}),
    durationMs: outcome.durationMs,
    ...(plan.taskId !== undefined ? { taskId: plan.taskId } : {}),
    ...(plan.runId !== undefined ? { runId: plan.runId } : {}),
    ...(plan.subtaskId !== undefined ? { subtaskId: plan.subtaskId } : {}),
    at: outcome.at.toISOString(),
  };
}
