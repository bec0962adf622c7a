/**
 * The executor's own git commands (worktrees, task branches, merges, ref transactions): argv
 * without a shell, optional stdin, a bounded time, no prompts, and none of the repository's
 * hooks or command-running config (`safeGitArgs`/`safeGitEnv` of `@maestro/runtime`). The agent's git tools have their
 * own runner in `@maestro/agent`; this one is for what the executor does around the agent.
 */
import { spawn } from 'node:child_process';
import { safeGitArgs, safeGitEnv, UnexpectedError } from '@maestro/runtime';

/** Git's administrative commands are local; a minute means a hook or a lock is hanging. */
const GIT_TIMEOUT_MS = 60_000;

/** Identity used only when the repository has none configured, so a merge never fails for lack of one. */
const FALLBACK_IDENTITY = ['-c', 'user.name=CodeMaestro Executor', '-c', 'user.email=executor@codemaestro.invalid'];

/** How a git command ended. */
export interface GitResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Options of {@link runGit}. */
export interface RunGitOptions {
  /** Written to the command's stdin. */
  input?: string;
  /** @default 60000 */
  timeoutMs?: number;
}

/** Runs `git <args>` in `cwd`; never throws for a non-zero exit (see {@link gitOk}). */
export function runGit(cwd: string, args: readonly string[], options: RunGitOptions = {}): Promise<GitResult> {
  return new Promise((resolve) => {
    // Hardened (`safeGitArgs`/`safeGitEnv`): the repository's hooks and config run nothing here.
    const child = spawn('git', safeGitArgs(args), {
      cwd,
      env: { ...safeGitEnv(process.env), LC_ALL: 'C' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? GIT_TIMEOUT_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr: `${stderr}${err.message}` });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** Runs git and returns its trimmed stdout; throws an `UnexpectedError` naming the command when it fails. */
export async function gitOk(cwd: string, args: readonly string[], options: RunGitOptions = {}): Promise<string> {
  const result = await runGit(cwd, args, options);
  if (result.code !== 0) throw gitFailed(cwd, args, result);
  return result.stdout.trim();
}

/** The `GIT_FAILED` error of a git command that exited non-zero: the command, its exit and what it said. */
export function gitFailed(cwd: string, args: readonly string[], result: GitResult): UnexpectedError {
  return new UnexpectedError('GIT_FAILED', `git ${args.join(' ')} failed (exit ${result.code ?? 'killed'}) in ${cwd}: ${(result.stderr || result.stdout).trim()}`, {
    details: { cwd, args },
  });
}

/** The commit `rev` names in `cwd`, or undefined when it names none. */
export async function resolveCommit(cwd: string, rev: string): Promise<string | undefined> {
  const result = await runGit(cwd, ['rev-parse', '--verify', '-q', `${rev}^{commit}`]);
  return result.code === 0 ? result.stdout.trim() : undefined;
}

/** `-c user.name=… -c user.email=…` when the repository has no identity, else nothing. */
export async function identityArgs(cwd: string): Promise<string[]> {
  const email = await runGit(cwd, ['config', '--get', 'user.email']);
  return email.code === 0 ? [] : FALLBACK_IDENTITY;
}
