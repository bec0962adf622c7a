/**
 * The `SubtaskWork` Orion publishes for one attempt of a subtask: what the executor needs to do
 * it (goal, instructions, files, repository, test command, budget), the concerns Orion declared
 * for it and the task branch its worktree branches from and merges into. The `code` activity,
 * the result recorder and escalation decisions all dispatch with it.
 */
import type { SubtaskWork } from '@maestro/contracts';
import { taskBranchName } from './delivery.js';
import { subtaskWorkId } from './subtask-progress.js';
import type { SubtaskRecord, TaskRecord } from './task.js';

/** The `SubtaskWork` of one attempt of a subtask. */
export function toWork(task: TaskRecord, subtask: SubtaskRecord, runId: string, attempt: number): SubtaskWork {
  return {
    workId: subtaskWorkId(task.id, subtask.id, attempt),
    taskId: task.id,
    runId,
    subtaskId: subtask.id,
    attempt,
    goal: task.goal,
    title: subtask.title,
    instructions: subtask.instructions,
    files: subtask.files,
    repoPath: task.repoPath,
    testCommand: task.testCommand,
    project: task.project,
    // The executor recalls memories of the task's tenant only.
    tenant: task.tenant,
    // And besides the project's, the preferences of the users and teams the task names.
    ...(task.memoryScopes.length > 0 ? { memoryScopes: task.memoryScopes } : {}),
    budget: { usd: task.budget.usd, tokens: task.budget.tokens },
    ...(task.intent !== null ? { taskIntent: task.intent.intent } : {}),
    // After an escalation: Orion's hint, and the strategic model when it took the subtask over.
    ...(subtask.hint !== null ? { hint: subtask.hint } : {}),
    ...(subtask.role !== null ? { role: subtask.role } : {}),
    ...(subtask.concerns.length > 0 ? { concerns: subtask.concerns } : {}),
    ...(task.baselineFailures !== null && task.baselineFailures.length > 0 ? { baselineFailures: task.baselineFailures } : {}),
    ...(task.baselineExitCode !== null ? { baselineExitCode: task.baselineExitCode } : {}),
    taskBranch: taskBranchName(task.id),
  };
}
