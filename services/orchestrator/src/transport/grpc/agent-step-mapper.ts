/**
 * Conversions between recorded agent steps and the `maestro.v1.AgentStep` message.
 */
import type { AgentStep } from '@maestro/contracts';
import type { AgentStepRecord } from '../../domain/agent-step.js';

/**
 * The proto form of a recorded step (no tool becomes an empty string and an unknown attempt 0,
 * as proto3 has them).
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
  };
}
