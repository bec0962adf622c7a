/**
 * Read-only git the worker uses for the failure packet: what the agent changed since it started
 * (in its worktree). Nothing here writes to the repository or its index.
 */
import { runCommand, type CommandResult } from '@maestro/agent';
import { safeGitArgs, safeGitEnvOverrides } from '@maestro/runtime';

/** Git's empty tree: the base of a diff in a repository without any commit yet. */
const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';

/** Most characters of diff read; the packet keeps far less (a token budget). */
const MAX_DIFF_CHARS = 200_000;

const GIT_TIMEOUT_MS = 30_000;

/**
 * The diff of `files` (workspace-relative) between `base` and the working tree, committed or
 * not, with files git does not track shown as new. Only those files: commits other agents made
 * in the same repository meanwhile stay out. Never throws; a failing git gives what it could.
 */
export async function gitDiffOf(repo: string, base: string | undefined, files: readonly string[]): Promise<string> {
  if (files.length === 0) return '';
  // Hardened: no external diff, textconv, pager or fsmonitor of the repository runs.
  const options = { cwd: repo, timeoutMs: GIT_TIMEOUT_MS, maxOutputChars: MAX_DIFF_CHARS, env: safeGitEnvOverrides({ readOnly: true }) };
  const git = (args: readonly string[]): Promise<CommandResult> => runCommand(['git', ...safeGitArgs(args)], options);
  const parts: string[] = [];
  const tracked = await git(['--literal-pathspecs', 'diff', '--no-color', '--relative', base ?? EMPTY_TREE, '--', ...files]);
  if (tracked.exitCode === 0 && tracked.output.trim() !== '') parts.push(tracked.output.trimEnd());
  const untracked = await git(['--literal-pathspecs', 'ls-files', '--others', '--exclude-standard', '--', ...files]);
  if (untracked.exitCode === 0) {
    for (const file of untracked.output.split('\n').map((l) => l.trim()).filter((l) => l !== '')) {
      // --no-index exits 1 when the files differ, which they always do here.
      const added = await git(['diff', '--no-color', '--no-index', '--', '/dev/null', file]);
      if (added.exitCode === 1 && added.output.trim() !== '') parts.push(added.output.trimEnd());
    }
  }
  return parts.join('\n');
}
