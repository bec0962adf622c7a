/**
 * The text a tactical agent is given for one subtask: built from the plan's fields so the
 * model sees the goal it serves, what to do, where, and how its work is checked.
 */
import type { SubtaskWork } from '@maestro/contracts';

/** Heads Orion's hint in the task text (after an earlier attempt of the subtask escalated). */
export const HINT_HEADING = 'Hint from Orion (an earlier attempt at this subtask failed):';

/**
 * Builds the task prompt for a subtask. Empty fields are left out rather than shown blank,
 * so the model is not invited to guess what an empty "Instructions:" section means.
 *
 * @example
 * buildTaskText({ ...work, title: 'Add subtract()', files: ['src/math.ts'] });
 */
export function buildTaskText(
  work: Pick<SubtaskWork, 'goal' | 'title' | 'instructions' | 'files' | 'testCommand' | 'hint'>,
): string {
  const sections: string[] = [];
  const title = work.title.trim();
  sections.push(title.length > 0 ? `Subtask: ${title}` : 'Subtask: (untitled)');
  const goal = work.goal.trim();
  if (goal.length > 0) sections.push(`This subtask is part of the overall goal:\n${goal}`);
  const instructions = work.instructions.trim();
  if (instructions.length > 0) sections.push(`Instructions:\n${instructions}`);
  const hint = work.hint?.trim() ?? '';
  if (hint.length > 0) {
    sections.push(`${HINT_HEADING}\n${hint}`);
  }
  const files = work.files.map((f) => f.trim()).filter((f) => f.length > 0);
  if (files.length > 0) {
    sections.push(`Files to look at first (paths relative to the repository root):\n${files.map((f) => `- ${f}`).join('\n')}`);
  }
  sections.push(
    work.testCommand.length > 0
      ? `When you are done, reply without calling a tool. Your work is then checked by running \`${formatCommand(work.testCommand)}\` in the repository; it must exit 0. Commit your changes with git.commit before you finish.`
      : 'When you are done, reply without calling a tool. Commit your changes with git.commit before you finish.',
  );
  return sections.join('\n\n');
}

/** Shell-like rendering of an argv for people and models to read (not for execution). */
export function formatCommand(argv: readonly string[]): string {
  return argv.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`)).join(' ');
}

/**
 * The task text of the agent's second run after its finished work conflicted with the task
 * branch: the conflict first (which files, where the worktree stands, what to do), then the
 * subtask it had completed, so it resolves with the subtask's intent in mind.
 */
export function buildConflictTaskText(
  work: Pick<SubtaskWork, 'goal' | 'title' | 'instructions' | 'files' | 'testCommand' | 'hint'>,
  branch: string,
  conflictedFiles: readonly string[],
): string {
  const files = conflictedFiles.length > 0 ? conflictedFiles.map((f) => `- ${f}`).join('\n') : '- (git reported no file names)';
  return [
    `Merge conflict: you finished and committed this subtask, but other work reached the task branch ${branch} meanwhile, and merging it into your commit conflicts in these files (paths relative to the repository root):\n${files}`,
    'The workspace is now in the middle of that merge: the files above contain conflict markers (<<<<<<<, =======, >>>>>>>). ' +
      'Resolve every conflict so that both your change and the other work are kept, remove the markers, run the tests, ' +
      'and commit with git.commit (it concludes the merge). Do not undo the other work.',
    `The subtask you completed:\n\n${buildTaskText(work)}`,
  ].join('\n\n');
}
