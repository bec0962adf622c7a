/**
 * What an activity is: a function from an `ActivityRequest` (and the task it serves) to an
 * outcome. Most activities complete at once; `code` defers, because its result is published
 * when the last subtask result arrives. Throwing a `UserError` fails the activity with that
 * error; any other throw is retried by the work consumer.
 */
import type { ActivityRequest } from '@maestro/contracts';
import { UserError, type Clock, type Logger } from '@maestro/runtime';
import type { BranchDelivery } from '../domain/delivery.js';
import type { PreflightProbe } from '../domain/preflight/preflight-probe.js';
import type { MemoryPort, RouterPort, WorkPublisher } from '../domain/ports.js';
import type { RepoProbe } from '../domain/repo-probe.js';
import { isFinalTaskStatus, type TaskRecord, type TaskWithSubtasks } from '../domain/task.js';
import type { AgentStepStore } from '../store/agent-step-store.js';
import type { TaskStore } from '../store/task-store.js';

/** Timeouts and limits of the activities. */
export interface ActivityOptions {
  /** Deadline of a strategic model call. @default 180000 */
  modelDeadlineMs?: number;
  /** Deadline of a memory recall; recall is skipped when it passes. @default RecallBudgetDefaults.deadlineMs (5000) */
  memoryDeadlineMs?: number;
  /** Memories recalled for the plan and review prompts (before the memory budget). @default RecallBudgetDefaults.limit (8) */
  recallLimit?: number;
  /**
   * Tokens of memory notes a plan or review prompt may hold (counted with `o200k_base`); the
   * notes that fit go in, in recall order. @default RecallBudgetDefaults.tokens (1500)
   */
  memoryTokens?: number;
  /**
   * How often a plan, review or escalation reply that does not parse is put back to the model
   * with the parse error before the activity fails. @default 2
   */
  replyReAsks?: number;
}

/** Everything activities use. */
export interface ActivityDeps {
  store: TaskStore;
  repoProbe: RepoProbe;
  router: RouterPort;
  memory: MemoryPort;
  work: WorkPublisher;
  clock: Clock;
  /** Where activities that report steps record them (preflight's checks); omitted, they are only logged. */
  steps?: Pick<AgentStepStore, 'record'>;
  /** Reads the task branch and delivers approved work (the review; see `domain/delivery.ts`). Wired in `orchestrator.ts`. */
  branchDelivery: BranchDelivery;
  /** How preflight looks at (and repairs) the machine. Wired in `orchestrator.ts`. */
  preflightProbe: PreflightProbe;
  options?: ActivityOptions;
}

/** What one activity invocation gets. */
export interface ActivityInvocation {
  request: ActivityRequest;
  /** The task named by `request.context.input.taskId`, as stored. */
  taskId: string;
  deps: ActivityDeps;
  logger: Logger;
  /**
   * Aborted when the orchestrator stops and its drain time is up: calls in flight are cut
   * (model calls, memory recall) and the request is handed back to the queue.
   */
  signal: AbortSignal;
}

/** How an activity ended: completed with an output, or deferred (the result comes later). */
export type ActivityOutcome = { kind: 'completed'; output: Record<string, unknown> } | { kind: 'deferred' };

/** An activity implementation. */
export type Activity = (invocation: ActivityInvocation) => Promise<ActivityOutcome>;

/** Error code when an activity names a task Orion does not have. */
export const TASK_NOT_FOUND = 'TASK_NOT_FOUND';
/**
 * Error code when an activity is requested for a task that already succeeded, failed or was
 * cancelled: its run should not be doing work any more (say, a run that was started after the
 * task was cancelled, before the CANCEL reached it). Not retried.
 */
export const TASK_ENDED = 'TASK_ENDED';

/** Fails the activity with {@link TASK_ENDED} when the task is final. */
export function assertTaskActive(task: TaskRecord): void {
  if (isFinalTaskStatus(task.status)) {
    throw new UserError(
      TASK_ENDED,
      `task ${task.id} already ${task.status === 'cancelled' ? 'was cancelled' : task.status}; its run does no more work`,
      { reason: 'precondition' },
    );
  }
}

/**
 * Loads the invocation's task or fails the activity: the request names a task we do not have
 * ({@link TASK_NOT_FOUND}), or one that already ended ({@link TASK_ENDED}).
 */
export async function requireTask(invocation: ActivityInvocation): Promise<TaskWithSubtasks> {
  const found = await invocation.deps.store.getTask(invocation.taskId);
  if (!found) throw new UserError(TASK_NOT_FOUND, `task ${invocation.taskId} does not exist`, { reason: 'not_found' });
  assertTaskActive(found.task);
  return found;
}

/** The completed outcome. */
export function completed(output: Record<string, unknown>): ActivityOutcome {
  return { kind: 'completed', output };
}
