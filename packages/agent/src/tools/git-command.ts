/**
 * Running git for the git tools: no hooks, no repository-configured programs, no prompts, no
 * pager, a bounded time, the caller's abort signal.
 */
import { safeGitArgs, safeGitEnvOverrides } from '@maestro/runtime';
import { runCommand, type CommandResult } from '../run-command.js';
import type { ToolContext } from '../tool-registry.js';

/** Git commands are local and quick; a minute means something is wrong (a hook hanging). */
const GIT_TIMEOUT_MS = 60_000;

/** Options for {@link runGit}. */
export interface RunGitOptions {
  /** Characters of output kept. @default 32000 (as `runCommand`) */
  maxOutputChars?: number;
}

/**
 * Runs `git <args>` in `cwd` (already confined by the caller) without a shell, hardened by
 * `safeGitArgs`/`safeGitEnvOverrides` of `@maestro/runtime`: no hook or command-running config
 * of the repository runs, terminal prompts are off (a credential prompt would hang the agent)
 * and paths are unquoted (non-ASCII names read as written).
 */
export function runGit(args: readonly string[], cwd: string, context: Pick<ToolContext, 'signal' | 'env'>, options: RunGitOptions = {}): Promise<CommandResult> {
  return runCommand(['git', ...safeGitArgs(args)], {
    cwd,
    timeoutMs: GIT_TIMEOUT_MS,
    ...(options.maxOutputChars !== undefined ? { maxOutputChars: options.maxOutputChars } : {}),
    ...(context.signal ? { signal: context.signal } : {}),
    // Only the caller's explicit variables plus these; runCommand adds the allow-listed base.
    // Inherited GIT_* variables are already dropped by runCommand's allow-list.
    env: { ...context.env, ...safeGitEnvOverrides(), PAGER: 'cat' },
  });
}

/** `git add failed (exit code 1): <output>` — a failed git step in words for the model. */
export function gitFailure(step: string, result: CommandResult): string {
  return `${step} failed (${result.spawnError ?? (result.timedOut ? 'timed out' : `exit code ${result.exitCode}`)}): ${result.output.trim()}`;
}
