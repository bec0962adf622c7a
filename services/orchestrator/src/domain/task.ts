/**
 * The task and subtask model Orion owns: statuses, records and the rules for moving a task
 * between statuses. Pure data and functions; the store persists them.
 */
import type { DeliveryMode, TaskDelivery } from './delivery.js';
import type { EscalationListing } from './escalations.js';

/** Every status a task can have; the last three are final. */
export const TaskStatuses = {
  pending: 'pending',
  running: 'running',
  succeeded: 'succeeded',
  failed: 'failed',
  cancelled: 'cancelled',
} as const;
export type TaskStatus = (typeof TaskStatuses)[keyof typeof TaskStatuses];

/**
 * Every status a subtask can have; `succeeded`, `failed` and `replaced` are final. `pending`: it
 * waits for the scheduler (its dependencies, or a subtask it conflicts with; see
 * `concern-schedule.ts`). `replaced`: an escalation's re-plan put new subtasks in its place, so
 * it neither holds up the `code` activity nor counts as a failure.
 */
export const SubtaskStatuses = {
  pending: 'pending',
  running: 'running',
  succeeded: 'succeeded',
  failed: 'failed',
  replaced: 'replaced',
} as const;
export type SubtaskStatus = (typeof SubtaskStatuses)[keyof typeof SubtaskStatuses];

/** Which model works a subtask: tactical agents, or the strategic model after a take-over. */
export type SubtaskRole = 'tactical' | 'strategic';

/** True for a status a task never leaves (so late or replayed events cannot revive it). */
export function isFinalTaskStatus(status: TaskStatus): boolean {
  return status === 'succeeded' || status === 'failed' || status === 'cancelled';
}

/** True for a subtask that has its result (or was replaced); a duplicate result for it is ignored. */
export function isFinalSubtaskStatus(status: SubtaskStatus): boolean {
  return status === 'succeeded' || status === 'failed' || status === 'replaced';
}

/** Guard for status strings coming from callers (ListTasks filter) or the database. */
export function isTaskStatus(value: string): value is TaskStatus {
  return Object.prototype.hasOwnProperty.call(TaskStatuses, value);
}

/**
 * Which `code` activity request the task's subtasks belong to; kept so the orchestrator can
 * publish that state's ActivityResult when the last subtask result arrives, possibly long
 * after the request itself was acked.
 */
export interface CodeActivityRef {
  workId: string;
  runId: string;
  state: string;
  activity: string;
  attempt: number;
}

/** What a task may spend on models; 0 means no limit. */
export interface TaskBudget {
  usd: number;
  tokens: number;
}

/** The goal's classified intent (`fix`, `docs` …), how sure the classifier was, and why. */
export interface TaskIntent {
  intent: string;
  confidence: number;
  reason: string;
}

/** A stored task (without its subtasks). */
export interface TaskRecord {
  id: string;
  goal: string;
  repoPath: string;
  testCommand: string[];
  project: string;
  status: TaskStatus;
  runId: string | null;
  failureReason: string | null;
  reviewSummary: string | null;
  reviewApproved: boolean | null;
  /** The strategic model's answer, for a task run on the read-only `explain` workflow. */
  answer: string | null;
  idempotencyKey: string | null;
  /** The tenant the task belongs to: its run and its memories are that tenant's too. */
  tenant: string;
  /**
   * Whose preferences apply besides the project's (`user:<id>`, `team:<id>`), as submitted: every
   * recall for the task (Orion's plan and review, each subtask's executor) names them. Empty for
   * tasks stored before `0017_task_memory_scopes`.
   */
  memoryScopes: string[];
  /** The plan activity request whose plan is stored (at-least-once: a redelivery reuses it). */
  planWorkId: string | null;
  /** The review activity request whose verdict is stored. */
  reviewWorkId: string | null;
  /**
   * The task branch's commit when the review read it, which is exactly what its verdict covers
   * and what delivery delivers: '' when the branch did not exist then; null when no review
   * recorded one (none yet, or stored before `0009_review_sha`).
   */
  reviewSha: string | null;
  /** The code activity request currently dispatched, if any. */
  code: CodeActivityRef | null;
  budget: TaskBudget;
  /** Null for tasks stored before intents were classified. */
  intent: TaskIntent | null;
  /** The workflow definition the task runs. */
  workflow: string;
  /**
   * How the approved work is delivered, as the run's workflow asked (recorded by the `code`
   * activity); null until then, which means the default `branch`.
   */
  deliveryMode: DeliveryMode | null;
  /** What delivery did, once the review decided (see `delivery.ts`); null before. */
  delivery: TaskDelivery | null;
  /** Tests that failed before any agent worked (preflight's baseline); null before preflight ran. */
  baselineFailures: string[] | null;
  /** How the baseline run exited when it failed (1–255); null when it passed or did not run. */
  baselineExitCode: number | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A stored subtask. `attempt` is 0 until the subtask is first dispatched. */
export interface SubtaskRecord {
  taskId: string;
  id: string;
  position: number;
  title: string;
  instructions: string;
  files: string[];
  status: SubtaskStatus;
  attempt: number;
  summary: string | null;
  commitSha: string | null;
  filesChanged: string[];
  failureReason: string | null;
  /** The executor's full result (with test evidence), as received. */
  result: Record<string, unknown> | null;
  /**
   * The attempt whose `SubtaskWork` the stream has acknowledged (null before the first). When
   * it equals `attempt`, the work is on the queue or with an executor and is never published
   * again for that attempt.
   */
  dispatchedAttempt: number | null;
  /** When `dispatchedAttempt` was recorded. */
  dispatchedAt: Date | null;
  /** Orion's hint, sent with every dispatch from the escalation that gave it on. */
  hint: string | null;
  /** Who works it: null (tactical) unless Orion took it over (`strategic`). */
  role: SubtaskRole | null;
  /** Ids of subtasks that must succeed before it starts (from the plan). */
  dependsOn: string[];
  /** Resources it declared besides its files (`port:3000`, `resource:db`, `dir:src/gen`), repository-relative. */
  resources: string[];
  /** Its concerns as lock-manager names (`file:/repo/src/a.ts` …), declared from files and resources. */
  concerns: string[];
  /** The subtask a re-plan put it in place of; null for the plan's own. */
  replaces: string | null;
  /** The executor that last ran it (from its steps while it runs, then its result); null until one took it. */
  executorId: string | null;
  /** The git worktree its last attempt ran in (from the result); null until one reported it. */
  worktree: string | null;
  /** The test gate's verdict on its last attempt (`subtask-evidence.ts`); null until tests ran. */
  verdict: string | null;
}

/** A task together with its subtasks in plan order. */
export interface TaskWithSubtasks {
  task: TaskRecord;
  subtasks: SubtaskRecord[];
  /** The escalations of its subtasks, oldest first (read with the task; absent means none were read). */
  escalations?: EscalationListing[];
  /**
   * The task branch's commit as git has it now, read for a failed or cancelled task whose
   * delivery the review never decided: '' when the branch does not exist, null when git could
   * not be asked; absent when not read.
   */
  branchTip?: string | null;
}

/** A change of task status with its reason, as decided by {@link nextTaskStatusForRun}. */
export interface TaskStatusChange {
  status: TaskStatus;
  failureReason?: string;
}

/** The part of a `maestro.events.run.*` event that decides a task's status. */
export interface RunStatusInput {
  status: 'running' | 'done' | 'failed' | 'cancelled';
  error?: { code: string; message: string } | undefined;
}

/**
 * Maps a run event onto the task's status: running → running, done → succeeded, failed →
 * failed (with the run's error), cancelled → cancelled. Returns undefined when nothing
 * changes; a final task never changes again, so a replayed or out-of-order event is harmless.
 */
export function nextTaskStatusForRun(current: TaskStatus, run: RunStatusInput): TaskStatusChange | undefined {
  if (isFinalTaskStatus(current)) return undefined;
  switch (run.status) {
    case 'running':
      return current === 'pending' ? { status: 'running' } : undefined;
    case 'done':
      return { status: 'succeeded' };
    case 'failed':
      return {
        status: 'failed',
        failureReason: run.error ? `${run.error.code}: ${run.error.message}` : 'the workflow run failed without a reason',
      };
    case 'cancelled':
      return { status: 'cancelled', ...(run.error ? { failureReason: run.error.message } : {}) };
  }
}
