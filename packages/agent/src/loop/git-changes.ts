/**
 * What git says about the workspace: the commit the run started from, and the files changed
 * since (committed, uncommitted and untracked), for the verdict's `filesChanged`.
 */
import { safeGitArgs, safeGitEnvOverrides } from '@maestro/runtime';
import { runCommand, type CommandResult } from '../run-command.js';

type Env = Record<string, string | undefined> | undefined;

/** Git calls here are quick; a repository that hangs longer than this is treated as having no answer. */
const GIT_TIMEOUT_MS = 30_000;

/** A read-only git command, hardened (no hooks or repository-configured programs, no optional locks). */
function readGit(args: readonly string[], workspace: string, env: Env): Promise<CommandResult> {
  return runCommand(['git', ...safeGitArgs(args)], { cwd: workspace, timeoutMs: GIT_TIMEOUT_MS, env: { ...env, ...safeGitEnvOverrides({ readOnly: true }) } });
}

/** The commit HEAD points at, or undefined in a repository without commits. */
export async function gitHead(workspace: string, env: Env): Promise<string | undefined> {
  const head = await readGit(['rev-parse', '--verify', '-q', 'HEAD'], workspace, env);
  return head.exitCode === 0 ? head.output.trim() : undefined;
}

/** Lists the paths changed since `baseSha` (committed or not) plus untracked files, relative to the workspace. */
export async function gitChangedFiles(workspace: string, baseSha: string | undefined, env: Env): Promise<string[]> {
  const files = new Set<string>();
  const lines = (text: string): string[] => text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const untracked = await readGit(['ls-files', '--others', '--exclude-standard'], workspace, env);
  if (untracked.exitCode !== 0) return [];
  lines(untracked.output).forEach((f) => files.add(f));
  if (baseSha !== undefined) {
    const diff = await readGit(['diff', '--name-only', '--relative', baseSha], workspace, env);
    if (diff.exitCode === 0) lines(diff.output).forEach((f) => files.add(f));
  } else {
    // No commit at the start: everything committed since, plus tracked changes, is new.
    const logged = await readGit(['log', '--name-only', '--format=', '--relative'], workspace, env);
    if (logged.exitCode === 0) lines(logged.output).forEach((f) => files.add(f));
    const staged = await readGit(['diff', '--name-only', '--relative', '--cached'], workspace, env);
    if (staged.exitCode === 0) lines(staged.output).forEach((f) => files.add(f));
  }
  return [...files];
}
