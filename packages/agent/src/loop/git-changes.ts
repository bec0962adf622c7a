/**
 * What git says about the workspace: the commit the run started from, and the files changed
 * since (committed, uncommitted and untracked), for the verdict's `filesChanged`.
 */
import { runCommand } from '../run-command.js';

type Env = Record<string, string | undefined> | undefined;

/** Git calls here are quick; a repository that hangs longer than this is treated as having no answer. */
const GIT_TIMEOUT_MS = 30_000;

/** The commit HEAD points at, or undefined in a repository without commits. */
export async function gitHead(workspace: string, env: Env): Promise<string | undefined> {
  const head = await runCommand(['git', 'rev-parse', '--verify', '-q', 'HEAD'], { cwd: workspace, timeoutMs: GIT_TIMEOUT_MS, ...(env ? { env } : {}) });
  return head.exitCode === 0 ? head.output.trim() : undefined;
}

/** Lists the paths changed since `baseSha` (committed or not) plus untracked files, relative to the workspace. */
export async function gitChangedFiles(workspace: string, baseSha: string | undefined, env: Env): Promise<string[]> {
  const opts = { cwd: workspace, timeoutMs: GIT_TIMEOUT_MS, ...(env ? { env } : {}) };
  const files = new Set<string>();
  const lines = (text: string): string[] => text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const untracked = await runCommand(['git', 'ls-files', '--others', '--exclude-standard'], opts);
  if (untracked.exitCode !== 0) return [];
  lines(untracked.output).forEach((f) => files.add(f));
  if (baseSha !== undefined) {
    const diff = await runCommand(['git', 'diff', '--name-only', '--relative', baseSha], opts);
    if (diff.exitCode === 0) lines(diff.output).forEach((f) => files.add(f));
  } else {
    // No commit at the start: everything committed since, plus tracked changes, is new.
    const logged = await runCommand(['git', 'log', '--name-only', '--format=', '--relative'], opts);
    if (logged.exitCode === 0) lines(logged.output).forEach((f) => files.add(f));
    const staged = await runCommand(['git', 'diff', '--name-only', '--relative', '--cached'], opts);
    if (staged.exitCode === 0) lines(staged.output).forEach((f) => files.add(f));
  }
  return [...files];
}
