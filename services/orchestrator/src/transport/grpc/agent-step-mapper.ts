/**
 * Conversions between recorded agent steps and the `maestro.v1.AgentStep` message.
 */
import type { AgentStep, Condensation, RecalledMemory, StepCondensation, StepRecalledMemory } from '@maestro/contracts';
import type { AgentStepRecord } from '../../domain/agent-step.js';

/**
 * The proto form of a recorded step (no tool becomes an empty string, an unknown attempt 0, no
 * recalled memories an empty list, an unmeasured duration 0, no arguments or observation empty
 * strings, as proto3 has them; no model call stays unset).
 */
export function toAgentStepMessage(step: AgentStepRecord): AgentStep {
  return {
    taskId: step.taskId,
    runId: step.runId,
    subtaskId: step.subtaskId,
    executorId: step.executorId,
    step: step.step,
    kind: step.kind,
    tool: step.tool ?? '',
    summary: step.summary,
    ok: step.ok,
    at: step.at,
    attempt: step.attempt ?? 0,
    recalled: (step.recalled ?? []).map(toStepRecalledMemory),
    condensation: step.condensation !== undefined ? toStepCondensation(step.condensation) : undefined,
    modelCall: step.modelCall !== undefined ? { ...step.modelCall } : undefined,
    durationMs: step.durationMs ?? 0,
    arguments: step.arguments ?? '',
    observation: step.observation ?? '',
  };
}

/** A recalled memory as the proto carries it (no reason: empty `why`). */
export function toStepRecalledMemory(memory: RecalledMemory): StepRecalledMemory {
  return { id: memory.id, kind: memory.kind, score: memory.score, why: memory.why ?? '', content: memory.content };
}

/** A condensation as the proto carries it (none rejected: empty `rejected`). */
export function toStepCondensation(condensation: Condensation): StepCondensation {
  return {
    trigger: condensation.trigger,
    tokensBefore: condensation.tokensBefore,
    tokensAfter: condensation.tokensAfter,
    counted: condensation.counted,
    summarisedMessages: condensation.summarisedMessages,
    summarisedBy: condensation.summarisedBy,
    dropped: [...condensation.dropped],
    pinnedFacts: condensation.pinnedFacts,
    rejected: condensation.rejected ?? '',
  };
}
