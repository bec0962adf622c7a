/**
 * The usage fact published after every completion (`maestro.events.llm.completed`).
 */
import type { LlmCompletedEvent } from '@maestro/contracts';
import type { Usage } from '@maestro/llm';
import type { CompletionPlan } from './complete-request.js';

/** Builds the event for one finished completion. */
export function toLlmCompletedEvent(
  plan: CompletionPlan,
  outcome: { usage: Usage; costUsd: number; durationMs: number; scripted: boolean; at: Date },
): LlmCompletedEvent {
  return {
    role: plan.decision.role,
    intent: plan.intent,
    provider: plan.decision.provider,
    model: plan.decision.model,
    scripted: outcome.scripted,
    inputTokens: outcome.usage.inputTokens,
    outputTokens: outcome.usage.outputTokens,
    costUsd: outcome.costUsd,
    durationMs: outcome.durationMs,
    ...(plan.taskId !== undefined ? { taskId: plan.taskId } : {}),
    ...(plan.runId !== undefined ? { runId: plan.runId } : {}),
    ...(plan.subtaskId !== undefined ? { subtaskId: plan.subtaskId } : {}),
    at: outcome.at.toISOString(),
  };
}
