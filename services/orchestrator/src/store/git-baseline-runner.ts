/**
 * The test command's baseline: one run on the untouched HEAD, in a temporary
 * `git worktree add --detach` outside the user's tree (never in it: the user's uncommitted
 * work must neither change the result nor be touched), bounded by a timeout. The worktree is
 * removed afterwards whatever happened (`git worktree remove --force`, then the directory and
 * `git worktree prune`). The command runs through `runCommand` from `@maestro/agent`: no shell,
 * an allow-listed environment, its process group killed at the timeout, and its pid recorded
 * in the repository's registry while it runs.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { runCommand } from '@maestro/agent';
import type { BaselineRun } from '../domain/preflight/preflight-probe.js';

const execFileAsync = promisify(execFile);

/** Output kept from the baseline run: enough to name every failing test of a large suite. */
const BASELINE_OUTPUT_CHARS = 1_000_000;
/** Longest a git worktree command may take. */
const GIT_TIMEOUT_MS = 60_000;

/** Options of {@link runBaselineInWorktree}. */
export interface BaselineOptions {
  /** The git executable. @default 'git' */
  gitBinary?: string;
  /** Where temporary worktrees are made. @default os.tmpdir() */
  tmpDir?: string;
}

function message(err: unknown): string {
  const stderr = String((err as { stderr?: unknown }).stderr ?? '').trim();
  return stderr !== '' ? stderr.split('\n')[0]! : err instanceof Error ? err.message : String(err);
}

/** Runs `testCommand` once in a temporary detached worktree of `repoPath`'s HEAD. */
export async function runBaselineInWorktree(
  repoPath: string,
  testCommand: readonly string[],
  timeoutMs: number,
  signal: AbortSignal,
  options: BaselineOptions = {},
): Promise<BaselineRun> {
  const git = options.gitBinary ?? 'git';
  const parent = await mkdtemp(path.join(options.tmpDir ?? os.tmpdir(), 'maestro-baseline-'));
  const worktree = path.join(parent, 'tree');
  try {
    try {
      // Locked: a `git worktree prune` run elsewhere (an executor on another host, where this
      // path does not exist) must not drop the metadata of a worktree still in use here.
      await execFileAsync(git, ['-C', repoPath, 'worktree', 'add', '--lock', '--detach', worktree, 'HEAD'], { timeout: GIT_TIMEOUT_MS });
    } catch (err) {
      return { exitCode: null, timedOut: false, error: `git worktree add failed: ${message(err)}`, output: '', truncated: 0 };
    }
    const run = await runCommand(testCommand, { cwd: worktree, timeoutMs, signal, maxOutputChars: BASELINE_OUTPUT_CHARS });
    if (run.spawnError !== undefined) return { exitCode: null, timedOut: false, error: `could not start ${testCommand[0] ?? ''}: ${run.spawnError}`, output: '', truncated: 0 };
    return { exitCode: run.exitCode, timedOut: run.timedOut, output: run.output, truncated: run.truncated };
  } finally {
    // Twice forced: removes a locked worktree and its metadata. No `worktree prune`: it would
    // judge every worktree of the repository, including other processes' on other hosts.
    await execFileAsync(git, ['-C', repoPath, 'worktree', 'remove', '--force', '--force', worktree], { timeout: GIT_TIMEOUT_MS }).catch(() => undefined);
    await rm(parent, { recursive: true, force: true });
  }
}
