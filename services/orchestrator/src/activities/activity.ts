/**
 * What an activity is: a function from an `ActivityRequest` (and the task it serves) to an
 * outcome. Most activities complete at once; `code` defers, because its result is published
 * when the last subtask result arrives. Throwing a `UserError` fails the activity with that
 * error; any other throw is retried by the work consumer.
 */
import type { ActivityRequest } from '@maestro/contracts';
import { UserError, type Clock, type Logger } from '@maestro/runtime';
import type { MemoryPort, RouterPort, WorkPublisher } from '../domain/ports.js';
import type { RepoProbe } from '../domain/repo-probe.js';
import type { TaskWithSubtasks } from '../domain/task.js';
import type { TaskStore } from '../store/task-store.js';

/** Timeouts and limits of the activities. */
export interface ActivityOptions {
  /** Deadline of a strategic model call. @default 180000 */
  modelDeadlineMs?: number;
  /** Deadline of a memory recall; recall is skipped when it passes. @default 5000 */
  memoryDeadlineMs?: number;
  /** Memory notes recalled for the plan prompt. @default 8 */
  recallLimit?: number;
}

/** Everything activities use. */
export interface ActivityDeps {
  store: TaskStore;
  repoProbe: RepoProbe;
  router: RouterPort;
  memory: MemoryPort;
  work: WorkPublisher;
  clock: Clock;
  options?: ActivityOptions;
}

/** What one activity invocation gets. */
export interface ActivityInvocation {
  request: ActivityRequest;
  /** The task named by `request.context.input.taskId`, as stored. */
  taskId: string;
  deps: ActivityDeps;
  logger: Logger;
}

/** How an activity ended: completed with an output, or deferred (the result comes later). */
export type ActivityOutcome = { kind: 'completed'; output: Record<string, unknown> } | { kind: 'deferred' };

/** An activity implementation. */
export type Activity = (invocation: ActivityInvocation) => Promise<ActivityOutcome>;

/** Error code when an activity names a task Orion does not have. */
export const TASK_NOT_FOUND = 'TASK_NOT_FOUND';

/** Loads the invocation's task or fails the activity (the request names a task we do not have). */
export async function requireTask(invocation: ActivityInvocation): Promise<TaskWithSubtasks> {
  const found = await invocation.deps.store.getTask(invocation.taskId);
  if (!found) throw new UserError(TASK_NOT_FOUND, `task ${invocation.taskId} does not exist`, { reason: 'not_found' });
  return found;
}

/** The completed outcome. */
export function completed(output: Record<string, unknown>): ActivityOutcome {
  return { kind: 'completed', output };
}
