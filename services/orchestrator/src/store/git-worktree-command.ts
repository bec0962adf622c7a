/**
 * The orchestrator's git worktree commands (`worktree add|list|remove`), run again while another
 * process's `git worktree add` in the same repository (an executor starting a subtask) is
 * half-way through writing its metadata (see `retryWhileWorktreeMetadataHalfWritten` in
 * `@maestro/runtime`). Rejects as `execFile` does with the last failure.
 */
import { execFile, type ExecFileOptions } from 'node:child_process';
import { promisify } from 'node:util';
import { retryWhileWorktreeMetadataHalfWritten, type WorktreeRaceRetry } from '@maestro/runtime';

const execFileAsync = promisify(execFile);

type Settled = { stdout: string } | { error: unknown; stderr: string };

/** Runs `git` with `args` (already hardened by the caller) and returns its stdout. */
export async function execGitWorktreeCommand(git: string, args: readonly string[], options: ExecFileOptions, retry: WorktreeRaceRetry = {}): Promise<string> {
  const run = (): Promise<Settled> =>
    execFileAsync(git, [...args], { ...options, encoding: 'utf8' }).then(
      ({ stdout }) => ({ stdout: String(stdout) }),
      (error: unknown) => ({ error, stderr: String((error as { stderr?: unknown }).stderr ?? '') }),
    );
  const settled = await retryWhileWorktreeMetadataHalfWritten(run, (outcome) => ('error' in outcome ? outcome.stderr : undefined), retry);
  if ('error' in settled) throw settled.error;
  return settled.stdout;
}
