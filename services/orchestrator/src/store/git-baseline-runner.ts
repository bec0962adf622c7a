/**
 * The test command's baseline: one run on the untouched HEAD, in a temporary
 * `git worktree add --detach` outside the user's tree (never in it: the user's uncommitted
 * work must neither change the result nor be touched), bounded by a timeout, in the sandbox
 * the orchestrator was given (the same bubblewrap confinement as an executor's test gate). The worktree is
 * removed afterwards whatever happened (`git worktree remove --force`, then the directory and
 * `git worktree prune`). The command runs through `runCommand` from `@maestro/agent`: no shell,
 * an allow-listed environment, its process group killed at the timeout, and its pid recorded
 * in the repository's registry while it runs.
 *
 * The worktree is created locked, with a lock reason naming its creator (`maestro-baseline
 * pid=<pid> start=<ticks> boot=<boot id>`). An orchestrator that crashes mid-run cannot remove
 * it, so every baseline run first removes the repository's `maestro-baseline-*` worktrees under
 * the temp dir whose creator is gone ({@link removeStaleBaselineWorktrees}).
 */
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { currentBootId, isSameLiveProcess, processStartTicks, runCommand, type Sandbox } from '@maestro/agent';
import { safeGitArgs, safeGitEnv } from '@maestro/runtime';
import type { BaselineRun } from '../domain/preflight/preflight-probe.js';
import { execGitWorktreeCommand } from './git-worktree-command.js';
import { listWorktrees } from './git-worktree-list.js';

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
  /** Confines the test command (its worktree the only writable place). @default none: unsandboxed */
  sandbox?: Sandbox;
}

/** The prefix of every baseline worktree's parent directory (made with `mkdtemp`). */
export const BASELINE_DIR_PREFIX = 'maestro-baseline-';

/** The lock reason naming this process as the creator of a baseline worktree. */
function lockReason(): string | undefined {
  const start = processStartTicks(process.pid);
  const boot = currentBootId();
  return start === undefined || boot === undefined ? undefined : `maestro-baseline pid=${process.pid} start=${start} boot=${boot}`;
}

/** True when a lock reason names a creator that is certainly gone; false when alive or unknown. */
function creatorGone(reason: string): boolean {
  const match = /^maestro-baseline pid=(\d+) start=(\d+) boot=(\S+)$/.exec(reason);
  if (!match) return false;
  if (match[3] !== currentBootId()) return true;
  return !isSameLiveProcess({ pid: Number(match[1]), startTicks: Number(match[2]) });
}

async function realOrResolved(dir: string): Promise<string> {
  return realpath(dir).catch(() => path.resolve(dir));
}

/**
 * Removes the baseline worktrees of `repoPath` an orchestrator that crashed left behind: locked,
 * at `<tmpDir>/maestro-baseline-*\/tree`, with a lock reason whose creating process is gone
 * (`git worktree remove --force --force`, then the temp directory). Others' worktrees, ones
 * whose creator lives, and ones without our lock reason are left alone; no `worktree prune`.
 * Returns the worktrees removed.
 */
export async function removeStaleBaselineWorktrees(repoPath: string, options: BaselineOptions = {}): Promise<string[]> {
  const git = options.gitBinary ?? 'git';
  const tmpDir = await realOrResolved(options.tmpDir ?? os.tmpdir());
  const removed: string[] = [];
  for (const entry of await listWorktrees(repoPath, { gitBinary: git, timeoutMs: GIT_TIMEOUT_MS })) {
    if (entry.locked === undefined || path.basename(entry.path) !== 'tree') continue;
    const parent = path.dirname(entry.path);
    if (!path.basename(parent).startsWith(BASELINE_DIR_PREFIX)) continue;
    if ((await realOrResolved(path.dirname(parent))) !== tmpDir) continue;
    if (!creatorGone(entry.locked)) continue;
    await execGitWorktreeCommand(git, safeGitArgs(['-C', repoPath, 'worktree', 'remove', '--force', '--force', entry.path]), { timeout: GIT_TIMEOUT_MS, env: safeGitEnv(process.env) });
    await rm(parent, { recursive: true, force: true });
    removed.push(entry.path);
  }
  return removed;
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
  // A leftover costs disk space, not correctness: the baseline runs even if this fails.
  const notes = await removeStaleBaselineWorktrees(repoPath, options).then(
    (removed) => (removed.length > 0 ? [`removed ${removed.length} baseline worktree${removed.length === 1 ? '' : 's'} a crashed orchestrator left: ${removed.join(', ')}`] : []),
    (err: unknown) => [`could not look for baseline worktrees a crashed orchestrator left: ${message(err)}`],
  );
  const parent = await mkdtemp(path.join(options.tmpDir ?? os.tmpdir(), BASELINE_DIR_PREFIX));
  const worktree = path.join(parent, 'tree');
  const reason = lockReason();
  try {
    try {
      // Locked: a `git worktree prune` run elsewhere (an executor on another host, where this
      // path does not exist) must not drop the metadata of a worktree still in use here. The
      // reason names us, so a later run can tell the worktree was left by a crash.
      const lock = reason === undefined ? ['--lock'] : ['--lock', '--reason', reason];
      // Hardened: no post-checkout hook or fsmonitor of the repository runs on our checkout.
      await execGitWorktreeCommand(git, safeGitArgs(['-C', repoPath, 'worktree', 'add', ...lock, '--detach', worktree, 'HEAD']), { timeout: GIT_TIMEOUT_MS, env: safeGitEnv(process.env) });
    } catch (err) {
      return { exitCode: null, timedOut: false, error: `git worktree add failed: ${message(err)}`, output: '', truncated: 0, notes };
    }
    const run = await runCommand(testCommand, {
      cwd: worktree,
      timeoutMs,
      signal,
      maxOutputChars: BASELINE_OUTPUT_CHARS,
      ...(options.sandbox !== undefined ? { sandbox: options.sandbox, worktree } : {}),
    });
    if (run.spawnError !== undefined) return { exitCode: null, timedOut: false, error: `could not start ${testCommand[0] ?? ''}: ${run.spawnError}`, output: '', truncated: 0, notes };
    return { exitCode: run.exitCode, timedOut: run.timedOut, output: run.output, truncated: run.truncated, cwd: await realpath(worktree), notes };
  } finally {
    // Twice forced: removes a locked worktree and its metadata. No `worktree prune`: it would
    // judge every worktree of the repository, including other processes' on other hosts.
    await execGitWorktreeCommand(git, safeGitArgs(['-C', repoPath, 'worktree', 'remove', '--force', '--force', worktree]), { timeout: GIT_TIMEOUT_MS, env: safeGitEnv(process.env) }).catch(() => undefined);
    await rm(parent, { recursive: true, force: true });
  }
}
