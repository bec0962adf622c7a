/**
 * The port through which Orion records and lists the steps of tactical agents. Recording is
 * idempotent on a step's identity (see `domain/agent-step.ts`), so a redelivered event is a
 * no-op and the consumer may take several at once.
 */
import type { AgentStepQuery, AgentStepRecord } from '../domain/agent-step.js';

/** What recording one step did. */
export const StepRecordOutcomes = {
  /** Stored now. */
  recorded: 'recorded',
  /** Already stored (a redelivery, or a second copy of the event). */
  duplicate: 'duplicate',
  /** No task has the step's task id (probe work, another installation's task): nothing stored. */
  unknownTask: 'unknown-task',
} as const;
export type StepRecordOutcome = (typeof StepRecordOutcomes)[keyof typeof StepRecordOutcomes];

/** Where agent steps live. */
export interface AgentStepStore {
  /** Stores the step unless a step with its identity is stored already, or its task is unknown. */
  record(step: AgentStepRecord): Promise<StepRecordOutcome>;
  /** True when a task has this id (false also for ids that are not UUIDs). */
  taskExists(taskId: string): Promise<boolean>;
  /**
   * Up to `query.limit` steps of the task or run, oldest first (by time, then subtask id,
   * executor id and step number), strictly after `query.after` when given.
   */
  list(query: AgentStepQuery): Promise<AgentStepRecord[]>;
}
