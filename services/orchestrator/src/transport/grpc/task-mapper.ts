/**
 * Conversions between stored tasks and the `maestro.v1.Task` message.
 */
import type { Subtask, Task } from '@maestro/contracts';
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
  };
}

/** The proto form of a task with its subtasks. */
export function toTaskMessage({ task, subtasks }: TaskWithSubtasks): Task {
  return {
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
  };
}
