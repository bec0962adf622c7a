/**
 * Conversions between stored tasks and the `maestro.v1.Task` message.
 */
import type { Subtask, Task, TaskDelivery as TaskDeliveryMessage, TaskEscalation } from '@maestro/contracts';
import { deliveryView, type TaskDelivery } from '../../domain/delivery.js';
import type { EscalationListing } from '../../domain/escalations.js';
import type { SubtaskRecord, TaskWithSubtasks } from '../../domain/task.js';

/** The proto form of a subtask (absent values become empty strings, as proto3 has it). */
export function toSubtaskMessage(subtask: SubtaskRecord): Subtask {
  return {
    id: subtask.id,
    title: subtask.title,
    instructions: subtask.instructions,
    files: subtask.files,
    status: subtask.status,
    summary: subtask.summary ?? '',
    commitSha: subtask.commitSha ?? '',
    filesChanged: subtask.filesChanged,
    failureReason: subtask.failureReason ?? '',
    dependsOn: subtask.dependsOn,
    resources: subtask.resources,
    concerns: subtask.concerns,
    executorId: subtask.executorId ?? '',
    worktree: subtask.worktree ?? '',
    verdict: subtask.verdict ?? '',
  };
}

/** The proto form of a task's delivery outcome. */
export function toTaskDeliveryMessage(delivery: TaskDelivery): TaskDeliveryMessage {
  return { mode: delivery.mode, branch: delivery.branch, sha: delivery.sha, delivered: delivery.delivered, reason: delivery.reason };
}

/**
 * The proto form of an escalation: `decision` is `hint`, `replan`, `takeover`, `abandon`, or
 * `fail` (the subtask failed without a strategic decision: limit reached, no usable reply);
 * empty while undecided. `decision_reason` carries the hint too, for a hint. `packet` is the
 * failure packet as received, as plain JSON (a Struct holds no undefined values).
 */
export function toTaskEscalationMessage(e: EscalationListing): TaskEscalation {
  return {
    escalationId: e.escalationId,
    subtaskId: e.subtaskId,
    attempt: e.attempt,
    reason: e.reason,
    decision: e.decision,
    decisionReason: e.hint !== undefined ? `${e.decisionReason} (hint: ${e.hint})` : e.subtasks !== undefined ? `${e.decisionReason} (new subtasks: ${e.subtasks.join(', ')})` : e.decisionReason,
    at: e.at,
    packet: e.packet !== undefined ? (JSON.parse(JSON.stringify(e.packet)) as Record<string, unknown>) : undefined,
  };
}

function deliveryMessage(delivery: TaskDelivery | null): TaskDeliveryMessage | undefined {
  return delivery === null ? undefined : toTaskDeliveryMessage(delivery);
}

/** The proto form of a task with its subtasks (and its delivery, once decided; see `delivery.ts`). */
export function toTaskMessage({ task, subtasks, escalations, branchTip }: TaskWithSubtasks): Task {
  return {
    tenant: task.tenant,
    id: task.id,
    goal: task.goal,
    repoPath: task.repoPath,
    testCommand: task.testCommand,
    project: task.project,
    status: task.status,
    runId: task.runId ?? '',
    subtasks: subtasks.map(toSubtaskMessage),
    failureReason: task.failureReason ?? '',
    createdAt: task.createdAt,
    updatedAt: task.updatedAt,
    reviewSummary: task.reviewSummary ?? '',
    answer: task.answer ?? '',
    budget: { usd: task.budget.usd, tokens: task.budget.tokens },
    intent: task.intent?.intent ?? '',
    intentConfidence: task.intent?.confidence ?? 0,
    intentReason: task.intent?.reason ?? '',
    workflow: task.workflow,
    memoryScopes: task.memoryScopes,
    escalations: (escalations ?? []).map(toTaskEscalationMessage),
    delivery: deliveryMessage(deliveryView(task, branchTip)),
  };
}
