/**
 * `intake`: checks that the task's repository is still there and still a git work tree (time
 * may have passed since SubmitTask), and hands the run the task's test command and project.
 */
import { isMaestroError, UserError } from '@maestro/runtime';
import { checkRepository } from '../domain/task-submission.js';
import { completed, requireTask, type Activity } from './activity.js';

/** Error code when the repository went away or stopped being a git work tree. */
export const REPO_UNAVAILABLE = 'REPO_UNAVAILABLE';

/** Output: `{ testCommand, project }`. */
export const intakeActivity: Activity = async (invocation) => {
  const { task } = await requireTask(invocation);
  try {
    await checkRepository(task.repoPath, invocation.deps.repoProbe);
  } catch (err) {
    if (isMaestroError(err) && err instanceof UserError) {
      throw new UserError(REPO_UNAVAILABLE, `the task's repository is no longer usable: ${err.message}`, { cause: err });
    }
    throw err;
  }
  return completed({ testCommand: task.testCommand, project: task.project });
};
