/**
 * The port through which Orion records and lists the steps of tactical agents. Recording is
 * idempotent on a step's identity (see `domain/agent-step.ts`), so a redelivered event is a
 * no-op and the consumer may take several at once.
 */
import type { AgentStepQuery, AgentStepRecord, StoredAgentStep } from '../domain/agent-step.js';

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
  /** True when a task has this id (of `tenant`, when given); false also for ids that are not UUIDs. */
  taskExists(taskId: string, tenant?: string): Promise<boolean>;
  /**
   * Up to `query.limit` steps of the task or run in the order they were stored (`seq`), strictly
   * after `query.after` when given; only of `query.tenant`'s tasks when set.
   */
  list(query: AgentStepQuery): Promise<StoredAgentStep[]>;
  /**
   * Deletes up to `limit` steps of tasks that reached a final status before `finishedBefore`;
   * resolves to how many it deleted (fewer than `limit`: none are left).
   */
  deleteStepsOfFinishedTasks(finishedBefore: Date, limit: number): Promise<number>;
  /**
   * Records the step's executor as the one running its subtask, when the subtask is running that
   * very attempt (a late step of an earlier attempt changes nothing). Outside any transaction of
   * the task, so it never waits for one that waits for it.
   */
  noteSubtaskExecutor(step: Pick<AgentStepRecord, 'taskId' | 'subtaskId' | 'attempt' | 'executorId'>): Promise<void>;
}
