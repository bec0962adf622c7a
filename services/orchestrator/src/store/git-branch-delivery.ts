/**
 * `BranchDelivery` over the `git` binary: reads the task branch's commit and fast-forwards the
 * user's checked-out branch to it when that is safe. It never merges, rebases, resets or
 * stashes: anything but a clean fast-forward is refused with the reason, and the task branch is
 * left for the user.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { OperationalError, safeGitArgs, safeGitEnv } from '@maestro/runtime';
import type { BranchDelivery, FastForwardOutcome } from '../domain/delivery.js';

const execFileAsync = promisify(execFile);

/** Options for {@link GitBranchDelivery}. */
export interface GitBranchDeliveryOptions {
  /** The git executable. @default 'git' */
  gitBinary?: string;
  /** Longest one git command may run. @default 30000 */
  timeoutMs?: number;
}

/** How a git command ended: its trimmed stdout and exit code, or stderr when it failed. */
type GitRun = { ok: true; stdout: string; raw: string } | { ok: false; exitCode: number | null; stderr: string };

/** How many changed paths a refusal names. */
const NAMED_PATHS = 3;

/** Delivers task branches with `git` in the user's repository. */
export class GitBranchDelivery implements BranchDelivery {
  private readonly git: string;
  private readonly timeoutMs: number;

  constructor(options: GitBranchDeliveryOptions = {}) {
    this.git = options.gitBinary ?? 'git';
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  async branchSha(repoPath: string, branch: string): Promise<string | undefined> {
    const run = await this.run(repoPath, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}^{commit}`]);
    return run.ok && run.stdout !== '' ? run.stdout : undefined;
  }

  async branchShas(repoPath: string, branches: readonly string[]): Promise<Map<string, string>> {
    const tips = new Map<string, string>();
    if (branches.length === 0) return tips;
    // Exact ref names as patterns: for-each-ref lists only those that exist.
    const run = await this.run(repoPath, ['for-each-ref', '--format=%(refname) %(objectname)', ...branches.map((b) => `refs/heads/${b}`)]);
    if (!run.ok) throw new OperationalError('GIT_FAILED', `git for-each-ref in ${repoPath} failed: ${firstLine(run.stderr)}`);
    const wanted = new Set(branches);
    for (const line of run.stdout.split('\n')) {
      const [ref, sha] = line.split(' ');
      const branch = ref?.slice('refs/heads/'.length);
      if (branch !== undefined && sha !== undefined && wanted.has(branch)) tips.set(branch, sha);
    }
    return tips;
  }

  async fastForward(repoPath: string, sha: string, taskBranch: string): Promise<FastForwardOutcome> {
    const head = await this.run(repoPath, ['symbolic-ref', '--quiet', '--short', 'HEAD']);
    if (!head.ok) return { done: false, reason: 'the repository has no branch checked out (detached HEAD), so there is no branch to fast-forward' };
    const userBranch = head.stdout;
    if (userBranch === taskBranch) return { done: false, reason: `the checked-out branch is the task branch ${taskBranch} itself` };

    // Untracked files do not count: a fast-forward leaves them alone, and git refuses by itself
    // when one is in the way of a file the task branch adds.
    const status = await this.run(repoPath, ['status', '--porcelain=v1', '-z', '--untracked-files=no']);
    if (!status.ok) return { done: false, reason: `git status failed: ${firstLine(status.stderr)}` };
    if (status.stdout !== '') {
      // Entries are "XY <path>", NUL-separated; a rename is followed by its source as an entry of its own.
      const paths = status.raw.split('\0').filter((entry) => /^[ MTADRCU?!]{2} /.test(entry)).map((entry) => entry.slice(3));
      const named = paths.slice(0, NAMED_PATHS).join(', ') + (paths.length > NAMED_PATHS ? ` and ${paths.length - NAMED_PATHS} more` : '');
      return { done: false, reason: `the working tree of ${userBranch} has uncommitted changes (${named}); commit or stash them and merge ${taskBranch} yourself` };
    }

    const tip = await this.run(repoPath, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}']);
    if (!tip.ok || tip.stdout === '') return { done: false, reason: `${userBranch} has no commit yet` };
    if (tip.stdout === sha) return { done: true, userBranch };
    const ancestor = await this.run(repoPath, ['merge-base', '--is-ancestor', tip.stdout, sha]);
    if (!ancestor.ok) {
      if (ancestor.exitCode === 1) {
        return {
          done: false,
          reason: `${userBranch} has moved on: its tip ${tip.stdout.slice(0, 12)} is not an ancestor of ${taskBranch}, so a fast-forward is impossible; merge ${taskBranch} yourself`,
        };
      }
      return { done: false, reason: `git merge-base failed: ${firstLine(ancestor.stderr)}` };
    }
    // Fast-forward only: git itself refuses again if the branch moved meanwhile or a file in the
    // way would be overwritten.
    const merge = await this.run(repoPath, ['merge', '--ff-only', '--quiet', sha]);
    if (!merge.ok) return { done: false, reason: `git merge --ff-only refused: ${firstLine(merge.stderr)}` };
    return { done: true, userBranch };
  }

  private async run(repoPath: string, args: readonly string[]): Promise<GitRun> {
    try {
      // Hardened: the repository's hooks (post-merge, reference-transaction …) and config run nothing.
      const { stdout } = await execFileAsync(this.git, safeGitArgs(['-C', repoPath, ...args]), {
        timeout: this.timeoutMs,
        maxBuffer: 16 * 1024 * 1024,
        env: { ...safeGitEnv(process.env), LC_ALL: 'C' },
      });
      return { ok: true, stdout: stdout.trim(), raw: stdout };
    } catch (err) {
      const e = err as { code?: unknown; killed?: boolean; stderr?: unknown; message?: string };
      if (e.code === 'ENOENT') throw new OperationalError('GIT_MISSING', `the git binary "${this.git}" was not found`, { cause: err });
      if (e.killed) throw new OperationalError('GIT_TIMEOUT', `git ${args[0]} in ${repoPath} took longer than ${this.timeoutMs} ms`, { cause: err });
      return { ok: false, exitCode: typeof e.code === 'number' ? e.code : null, stderr: String(e.stderr ?? e.message ?? '') };
    }
  }
}

function firstLine(text: string): string {
  const line = text.trim().split('\n')[0]?.replace(/^(fatal|error): /, '') ?? '';
  return line === '' ? 'no reason given' : line;
}
