/**
 * The merge queue: a finished subtask's commit enters the task branch one at a time per
 * repository, under the lock-manager's `git-index:<repo>` concern, through a fenced ref
 * transaction.
 *
 * Fencing happens in two places, on purpose:
 * - the lock-manager is asked just before the transaction whether the lease is still current
 *   (`CheckFence`): this catches a lease that expired
 *   while the merge ran;
 * - the repository itself refuses a late writer: the transaction moves the branch and
 *   `refs/maestro/fence/git-index` (a blob holding the highest fencing token that ever moved a
 *   task branch) together, each with its expected old value, after checking that the lease's
 *   token is not lower than the recorded one. A writer paused between the lock-manager's answer
 *   and its write (GC, a stopped VM) whose lease was granted to someone else who merged since
 *   finds a higher token there and is refused with `FENCED`; the ref update's old values also
 *   make two racing writers fail rather than overwrite each other.
 */
import type { SubtaskWork } from '@maestro/contracts';
import { Concerns } from '@maestro/agent';
import { OperationalError, systemClock, UnexpectedError, type Clock, type KeyedMutex, type Logger, type WorktreeRaceRetry } from '@maestro/runtime';
import { assertNotFenced, formatFenceToken, parseFenceToken } from '../domain/fence-token.js';
import { formatMergedRecord, parseMergedRecord, type MergedRecord } from '../domain/merged-record.js';
import type { HeldLock, SubtaskWriteGuard } from '../domain/ports.js';
import { MaestroRefs } from '../domain/worktree-layout.js';
import { gitOk, identityArgs, resolveCommit, runGit } from '../store/git-cli.js';
import { worktreeGitOk } from '../store/worktree-git.js';
import type { SubtaskWorktree } from '../store/worktree-manager.js';

/** How a merge ended. */
export type MergeOutcome =
  | ({ kind: 'merged' } & MergedRecord)
  | {
      kind: 'conflict';
      /** The task branch tip the subtask's commit conflicts with. */
      tip: string;
      /** Repository-relative paths with conflicts. */
      files: string[];
    }
  /** The attempt was stopped (its task ended, shutdown, its work lease lost) while it waited for the git index. */
  | { kind: 'stopped' };

/** Error codes of the merge queue. */
export const MergeErrors = {
  /** The task branch is checked out in some worktree: moving it would rewrite that checkout's view. */
  branchCheckedOut: 'TASK_BRANCH_CHECKED_OUT',
} as const;

/** Options for {@link MergeQueue}. */
export interface MergeQueueOptions {
  /** Serializes git administrative commands per repository (shared with the worktree manager). */
  mutex: KeyedMutex;
  /** How long a merge waits for the repository's `git-index` concern. */
  lockWaitMs: number;
  /** Times the waits of `git worktree list` for another process's half-written metadata (see worktree-git.ts). @default systemClock */
  clock?: Clock;
}

/** The fence blob's token in `repoRoot`, and the blob itself (the transaction's expected old value). */
export async function readFence(repoRoot: string): Promise<{ blob: string | undefined; token: number | undefined }> {
  const ref = await runGit(repoRoot, ['rev-parse', '-q', '--verify', MaestroRefs.gitIndexFence]);
  if (ref.code !== 0) return { blob: undefined, token: undefined };
  const blob = ref.stdout.trim();
  return { blob, token: parseFenceToken(await gitOk(repoRoot, ['cat-file', 'blob', blob])) };
}

/** What {@link commitFencedMerge} moves. */
export interface FencedMerge {
  branch: string;
  /** The new tip. */
  sha: string;
  /** The tip the merge was made against; the branch must still be there. */
  previous: string;
  /** The lease's fencing token. */
  fencingToken: number;
  /** Extra refs set in the same transaction (the work item's merged record), as ref → content of a new blob. */
  records?: ReadonlyArray<{ ref: string; content: string }>;
}

/**
 * Moves the task branch with one fenced ref transaction (`git update-ref --stdin`: start,
 * update the branch from `previous`, update the fence from its old value (or from nothing) to
 * the lease's token, prepare, commit). Refuses with `FENCED` when the recorded token is higher
 * than the lease's; a branch that moved meanwhile fails the transaction (`TASK_BRANCH_MOVED`,
 * retryable); nothing is changed then.
 */
export async function commitFencedMerge(repoRoot: string, merge: FencedMerge): Promise<void> {
  const fence = await readFence(repoRoot);
  assertNotFenced(merge.fencingToken, fence.token);
  const zero = '0'.repeat((await gitOk(repoRoot, ['rev-parse', '--show-object-format'])) === 'sha256' ? 64 : 40);
  const tokenBlob = await gitOk(repoRoot, ['hash-object', '-w', '--stdin'], { input: formatFenceToken(merge.fencingToken) });
  const lines = ['start', `update refs/heads/${merge.branch} ${merge.sha} ${merge.previous}`, `update ${MaestroRefs.gitIndexFence} ${tokenBlob} ${fence.blob ?? zero}`];
  for (const record of merge.records ?? []) {
    const blob = await gitOk(repoRoot, ['hash-object', '-w', '--stdin'], { input: record.content });
    // Create-only: a second writer of the same record fails the whole transaction.
    lines.push(`update ${record.ref} ${blob} ${zero}`);
  }
  lines.push('prepare', 'commit', '');
  const result = await runGit(repoRoot, ['update-ref', '--stdin'], { input: lines.join('\n') });
  if (result.code === 0) return;
  // Tell a late writer from a race: a fence that moved past us is FENCED, anything else is retryable.
  const now = await readFence(repoRoot);
  assertNotFenced(merge.fencingToken, now.token);
  const tip = await resolveCommit(repoRoot, `refs/heads/${merge.branch}`);
  if (tip !== merge.previous || now.blob !== fence.blob) {
    throw new OperationalError('TASK_BRANCH_MOVED', `the task branch ${merge.branch} or its fence moved during the merge; it will be tried again`, {
      details: { expected: merge.previous, found: tip },
    });
  }
  throw new UnexpectedError('GIT_FAILED', `the fenced ref transaction failed: ${(result.stderr || result.stdout).trim()}`);
}

/**
 * Merges subtask worktrees into their task branch. `merge` takes the `git-index:<repo>` lease
 * for the duration of one merge and gives it back at once, so the next subtask can merge.
 */
export class MergeQueue {
  private readonly retry: WorktreeRaceRetry;

  constructor(private readonly options: MergeQueueOptions) {
    this.retry = { clock: options.clock ?? systemClock };
  }

  /**
   * Merges the worktree's HEAD (the subtask's commit) into the task branch: the current tip is
   * merged into the worktree first (`git merge --no-edit <tip>`; nothing to do when the tip is
   * already in it), then the branch is moved to the result by a fenced transaction that also
   * records the work item as merged. A conflicting merge is aborted and reported, never forced.
   */
  async merge(worktree: SubtaskWorktree, work: SubtaskWork, guard: SubtaskWriteGuard, log: Logger, signal?: AbortSignal): Promise<MergeOutcome> {
    const concern = Concerns.gitIndex(worktree.repoRoot);
    log.info('waiting for the git index to merge', { concern, waitMs: this.options.lockWaitMs });
    const lock = await guard.hold([concern], this.options.lockWaitMs);
    try {
      // The wait may have been long: an attempt stopped meanwhile must not move the branch.
      if (signal?.aborted) return { kind: 'stopped' };
      return await this.options.mutex.run(worktree.gitDir, () => this.mergeLocked(worktree, work, guard, lock, log));
    } finally {
      await guard.releaseLease(lock.leaseId);
    }
  }

  /**
   * Puts the worktree in the middle of a merge of `tip`, conflict markers and all, for the agent
   * to resolve (and commit). Returns the conflicting paths.
   */
  async startConflictedMerge(worktree: SubtaskWorktree, tip: string): Promise<string[]> {
    const identity = await identityArgs(worktree.path);
    await runGit(worktree.path, [...identity, 'merge', '--no-edit', '--no-ff', tip]);
    return conflictedFiles(worktree.path);
  }

  private async mergeLocked(worktree: SubtaskWorktree, work: SubtaskWork, guard: SubtaskWriteGuard, lock: HeldLock, log: Logger): Promise<MergeOutcome> {
    const ref = `refs/heads/${worktree.branch}`;
    // This work item merged already (an earlier delivery that lost its outcome): report that merge.
    const earlier = await readMergedRecordOf(worktree.repoRoot, MaestroRefs.merged(work.taskId, work.workId));
    if (earlier !== undefined) {
      log.info('work item merged earlier; reporting that merge', { sha: earlier.sha });
      return { kind: 'merged', ...earlier };
    }
    const checkedOut = await checkoutOf(worktree.repoRoot, ref, this.retry);
    if (checkedOut !== undefined) {
      throw new OperationalError(
        MergeErrors.branchCheckedOut,
        `the task branch ${worktree.branch} is checked out in ${checkedOut}; merging would change what that checkout sees. Check out another branch (or detach) there and the merge goes on`,
        { details: { branch: worktree.branch, worktree: checkedOut } },
      );
    }
    const tip = await resolveCommit(worktree.repoRoot, ref);
    if (tip === undefined) throw new UnexpectedError('TASK_BRANCH_MISSING', `the task branch ${worktree.branch} no longer exists in ${worktree.repoRoot}`);
    const head = await gitOk(worktree.path, ['rev-parse', 'HEAD']);
    const tipIncluded = (await runGit(worktree.path, ['merge-base', '--is-ancestor', tip, head])).code === 0;
    if (!tipIncluded) {
      const identity = await identityArgs(worktree.path);
      const merged = await runGit(worktree.path, [...identity, 'merge', '--no-edit', tip]);
      if (merged.code !== 0) {
        const files = await conflictedFiles(worktree.path);
        await runGit(worktree.path, ['merge', '--abort']);
        if (files.length === 0) {
          throw new UnexpectedError('MERGE_FAILED', `git merge of the task branch failed: ${(merged.stderr || merged.stdout).trim().slice(0, 1_000)}`);
        }
        log.info('merge conflicts with the task branch; aborted', { tip, files });
        return { kind: 'conflict', tip, files };
      }
    }
    const sha = await gitOk(worktree.path, ['rev-parse', 'HEAD']);
    // The lock-manager's word first (a lease lost while merging), then the repository's (below).
    await guard.confirm(lock);
    const record: MergedRecord = { branch: worktree.branch, sha, previous: tip };
    await commitFencedMerge(worktree.repoRoot, {
      branch: worktree.branch,
      sha,
      previous: tip,
      fencingToken: lock.fencingToken,
      records: [{ ref: MaestroRefs.merged(work.taskId, work.workId), content: formatMergedRecord(record) }],
    });
    log.info('merged into the task branch', { branch: worktree.branch, sha, previous: tip, fencingToken: lock.fencingToken });
    return { kind: 'merged', ...record };
  }
}

/** The worktree (path) that has `ref` checked out, if any: `git worktree list --porcelain`. */
async function checkoutOf(repoRoot: string, ref: string, retry: WorktreeRaceRetry): Promise<string | undefined> {
  const listed = await worktreeGitOk(repoRoot, ['worktree', 'list', '--porcelain'], retry);
  for (const entry of listed.split('\n\n')) {
    const lines = entry.split('\n');
    if (lines.includes(`branch ${ref}`)) return lines.find((l) => l.startsWith('worktree '))?.slice('worktree '.length);
  }
  return undefined;
}

/** The merged record stored under `ref`, if there is one. */
export async function readMergedRecordOf(repoRoot: string, ref: string): Promise<MergedRecord | undefined> {
  const blob = await runGit(repoRoot, ['cat-file', 'blob', ref]);
  return blob.code === 0 ? parseMergedRecord(blob.stdout) : undefined;
}

/** Paths with unmerged entries in the worktree's index. */
async function conflictedFiles(worktree: string): Promise<string[]> {
  const out = await runGit(worktree, ['diff', '--name-only', '--diff-filter=U']);
  return out.code === 0 ? out.stdout.split('\n').map((l) => l.trim()).filter((l) => l !== '') : [];
}
