/**
 * The port through which Orion stores tasks and subtasks. Everything that must be atomic with
 * a read (recording a subtask result and deciding whether the fan-out is complete, applying a
 * run event) happens inside {@link TaskStore.withLockedTask}, which holds the task's row lock
 * for the duration, so concurrent consumers on several replicas never lose an update.
 */
import type { Escalation } from '@maestro/contracts';
import type { DeliveryMode, TaskDelivery } from '../domain/delivery.js';
import type { EscalationOutcome, EscalationRecord, EscalationStatus } from '../domain/escalations.js';
import type { PlannedSubtask } from '../domain/plan.js';
import type { InterruptedReflex } from '../domain/reflex-learning.js';
import type { TaskListCursor, TaskListQuery } from '../domain/task-list-query.js';
import type {
  CodeActivityRef,
  SubtaskRecord,
  SubtaskRole,
  SubtaskStatus,
  TaskRecord,
  TaskStatus,
  TaskWithSubtasks,
  TaskBudget,
  TaskIntent,
} from '../domain/task.js';

/** A validated task about to be stored. */
export interface NewTask {
  id: string;
  /** The tenant the task belongs to. */
  tenant: string;
  goal: string;
  repoPath: string;
  testCommand: string[];
  project: string;
  idempotencyKey: string | null;
  budget: TaskBudget;
  intent: TaskIntent | null;
  workflow: string;
  /** Memory scopes besides `project` whose preferences apply, validated. @default [] */
  memoryScopes?: readonly string[];
}

/** Fields of a task that change after submission. */
export interface TaskPatch {
  status?: TaskStatus;
  runId?: string | null;
  failureReason?: string | null;
  reviewSummary?: string | null;
  reviewApproved?: boolean | null;
  answer?: string | null;
  planWorkId?: string | null;
  reviewWorkId?: string | null;
  reviewSha?: string | null;
  code?: CodeActivityRef | null;
  deliveryMode?: DeliveryMode | null;
  delivery?: TaskDelivery | null;
  baselineFailures?: string[] | null;
  baselineExitCode?: number | null;
}

/** A subtask about to be stored: as planned, with the concerns Orion declared for it. */
export interface NewSubtask extends Pick<PlannedSubtask, 'id' | 'title' | 'instructions' | 'files'> {
  /** @default [] */
  dependsOn?: string[];
  /** @default [] */
  resources?: string[];
  /** @default [] */
  concerns?: string[];
  /** The subtask a re-plan puts it in place of. @default null */
  replaces?: string | null;
}

/** Fields of a subtask that change as it is dispatched and finishes. */
export interface SubtaskPatch {
  status?: SubtaskStatus;
  attempt?: number;
  summary?: string | null;
  commitSha?: string | null;
  filesChanged?: string[];
  failureReason?: string | null;
  result?: Record<string, unknown> | null;
  hint?: string | null;
  role?: SubtaskRole | null;
  /** The last attempt's executor, worktree and verdict (`SubtaskEvidence`). */
  executorId?: string | null;
  worktree?: string | null;
  verdict?: string | null;
}

/** An escalation about to be stored (admitted, or failed at once over the limits). */
export interface NewEscalation {
  escalation: Escalation;
  status: EscalationStatus;
  decision: EscalationOutcome | null;
  claimedUntil: Date | null;
  decidedAt: Date | null;
}

/** Fields of an escalation that change as it is decided. */
export interface EscalationPatch {
  status?: EscalationStatus;
  decision?: EscalationOutcome | null;
  claimedUntil?: Date | null;
  decidedAt?: Date | null;
}

/** A subtask attempt whose `SubtaskWork` the stream acknowledged. */
export interface SubtaskDispatched {
  subtaskId: string;
  attempt: number;
}

/** Filter, size and start of a task listing (see `domain/task-list-query.ts`). */
export type TaskQuery = TaskListQuery;

/** One page of tasks, newest first, and where the next page starts (null after the last). */
export interface TaskPage {
  tasks: TaskWithSubtasks[];
  next: TaskListCursor | null;
}

/** A task whose row is locked for the current transaction. */
export interface LockedTask {
  /** The task as read under the lock. */
  readonly task: TaskRecord;
  /** Its subtasks in plan order. */
  subtasks(): Promise<SubtaskRecord[]>;
  /** Updates the task (and `updated_at`); returns the new record. */
  update(patch: TaskPatch): Promise<TaskRecord>;
  /** Replaces every subtask with the plan's, all pending and never dispatched. */
  replaceSubtasks(planned: readonly NewSubtask[]): Promise<SubtaskRecord[]>;
  /** Updates one subtask. */
  updateSubtask(subtaskId: string, patch: SubtaskPatch): Promise<void>;
  /**
   * Adds subtasks after the last one (a re-plan's), with the given status and attempt; returns
   * every subtask in plan order.
   */
  appendSubtasks(planned: readonly NewSubtask[], start: { status: SubtaskStatus; attempt: number }): Promise<SubtaskRecord[]>;
  /** The task's escalations, oldest first. */
  escalations(): Promise<EscalationRecord[]>;
  /** Stores a new escalation; returns it as stored. */
  insertEscalation(escalation: NewEscalation): Promise<EscalationRecord>;
  /** Updates one escalation; returns it as stored. */
  updateEscalation(escalationId: string, patch: EscalationPatch): Promise<EscalationRecord>;
  /**
   * Records that these attempts were published (at `at`). A subtask that has moved on to
   * another attempt, or was replaced by a new plan, is left alone.
   */
  markDispatched(dispatched: readonly SubtaskDispatched[], at: Date): Promise<void>;
}

/** Where tasks live. */
export interface TaskStore {
  /**
   * Stores a new pending task. With an idempotency key that its tenant already used, stores
   * nothing and returns the existing task with `created: false`.
   */
  insertTask(task: NewTask): Promise<{ task: TaskRecord; created: boolean }>;
  /** The task with its subtasks, or undefined (also for ids that are not UUIDs). */
  getTask(taskId: string): Promise<TaskWithSubtasks | undefined>;
  /** The task `tenant` submitted with this idempotency key, if any (keys are per tenant). */
  findByIdempotencyKey(key: string, tenant: string): Promise<TaskWithSubtasks | undefined>;
  /** The id of the task whose run this is, if any. */
  findTaskIdByRunId(runId: string): Promise<string | undefined>;
  /** One page of tasks newest first (by created_at, then id), with their subtasks; of `query.tenant` only when set. */
  listTasks(query: TaskQuery): Promise<TaskPage>;
  /** Pending tasks without a run (their StartRun has not succeeded yet), oldest first. */
  listUnstartedTasks(limit: number): Promise<TaskRecord[]>;
  /**
   * Reflex learnings left mid-way (Orion stopped while learning): escalations whose reflex mark is
   * `learning` with no claim running at `now` (released, or run out), least recently updated
   * first, at most `limit`.
   */
  listInterruptedReflexes(now: Date, limit: number): Promise<InterruptedReflex[]>;
  /**
   * Runs `fn` in one transaction holding the task's row lock (`SELECT … FOR UPDATE`);
   * undefined when there is no such task. A throw rolls everything back.
   */
  withLockedTask<T>(taskId: string, fn: (locked: LockedTask) => Promise<T>): Promise<T | undefined>;
}
