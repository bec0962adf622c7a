/**
 * The git worktrees subtask attempts work in. Each attempt gets its own worktree of the task
 * branch tip (`git worktree add --detach`), so its edits and test runs see only its own changes
 * and the user's working tree, index and branch are never touched. Worktrees are removed when
 * the attempt ends, whatever the ending; worktrees a crashed process left behind are removed
 * when the executor starts. Unfinished work of an attempt (escalated, failed, handed back) is
 * kept as a commit under `refs/maestro/carried/…`, and the subtask's next attempt starts from it.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { SubtaskWork } from '@maestro/contracts';
import { systemClock, UserError, toMaestroError, type Clock, type KeyedMutex, type Logger, type WorktreeRaceRetry } from '@maestro/runtime';
import { EXECUTOR_MARKER_FILE, parseExecutorMarker, pidOfDefaultIdDirectory, type ExecutorMarker } from '../domain/executor-directory.js';
import { executorWorktreeDir, MaestroRefs, taskBranchOf, worktreePathOf } from '../domain/worktree-layout.js';
import { gitOk, identityArgs, resolveCommit, runGit } from './git-cli.js';
import { ensureTaskBranch } from './task-branch.js';
import { isExecutorGone, processStartTime } from './process-liveness.js';
import { linkUntrackedPaths } from './worktree-links.js';
import { runWorktreeGit, worktreeGitOk } from './worktree-git.js';

/** One attempt's worktree. */
export interface SubtaskWorktree {
  /** The worktree's top directory (real path). */
  path: string;
  /** Where the agent works: the worktree's counterpart of `repoPath` (a subdirectory when repoPath is one). */
  workspace: string;
  /** The repository's top directory (real path). */
  repoRoot: string;
  /** The repository's common git directory: the key git's administrative commands are serialized on. */
  gitDir: string;
  /** The task branch. */
  branch: string;
  /** The commit the worktree started at (the task branch tip then). */
  base: string;
  /** Whether the unfinished work of an earlier attempt was carried in (as uncommitted changes). */
  carried: boolean;
  /** Repository-relative paths linked in from the checkout (untracked dependencies; see worktree-links.ts). */
  linked: string[];
}

/** Options for {@link WorktreeManager}. */
export interface WorktreeManagerOptions {
  /** Root of every executor's worktrees (`MAESTRO_EXECUTOR_WORKTREE_ROOT`). */
  root: string;
  executorId: string;
  logger: Logger;
  /** Serializes git administrative commands per repository; shared with the merge queue. */
  mutex: KeyedMutex;
  /** Untracked repository paths linked into each worktree (`MAESTRO_EXECUTOR_WORKTREE_LINKS`). @default none */
  links?: readonly string[];
  /** Times the waits of a worktree command for another process's half-written metadata (see worktree-git.ts). @default systemClock */
  clock?: Clock;
}

/** Creates, cleans and removes the worktrees of one executor. */
export class WorktreeManager {
  private readonly retry: WorktreeRaceRetry;

  constructor(private readonly options: WorktreeManagerOptions) {
    this.retry = { clock: options.clock ?? systemClock };
  }

  /** This executor's directory of worktrees. */
  get directory(): string {
    return executorWorktreeDir(this.options.root, this.options.executorId);
  }

  /**
   * Creates the attempt's worktree at the task branch tip (creating the branch from HEAD if
   * missing), carrying in the subtask's unfinished work of an earlier attempt if there is one.
   */
  async open(work: SubtaskWork, log: Logger): Promise<SubtaskWorktree> {
    const top = await runGit(work.repoPath, ['rev-parse', '--show-toplevel']);
    if (top.code !== 0) {
      throw new UserError('NOT_A_REPOSITORY', `repoPath: ${work.repoPath} is not inside a git repository`, { field: 'repoPath', reason: 'precondition' });
    }
    const repoRoot = await realpath(top.stdout.trim());
    const prefix = (await gitOk(work.repoPath, ['rev-parse', '--show-prefix'])).replace(/\/$/, '');
    const gitDir = await realpath(await gitOk(repoRoot, ['rev-parse', '--path-format=absolute', '--git-common-dir']));
    const branch = taskBranchOf(work);
    const path = worktreePathOf(this.options.root, this.options.executorId, work);
    const { base, real } = await this.options.mutex.run(gitDir, async () => {
      const tip = await ensureTaskBranch(repoRoot, branch);
      if (existsSync(path)) await this.removeLocked(repoRoot, gitDir, path, log);
      await mkdir(dirname(path), { recursive: true });
      // Locked: a `git worktree prune` run anywhere else (a user, another host where this path
      // does not exist) must not drop the metadata of a worktree in use here.
      await worktreeGitOk(repoRoot, ['worktree', 'add', '--lock', '--detach', '--quiet', path, tip], this.retry);
      return { base: tip, real: await realpath(path) };
    });
    let carried: boolean;
    let linked: string[];
    try {
      carried = await this.carryIn(real, repoRoot, work, log);
      const links = this.options.links ?? [];
      // After the carry-in (its clean-up must never meet a link); under the mutex, as it may write info/exclude.
      linked = links.length === 0 ? [] : await this.options.mutex.run(gitDir, () => linkUntrackedPaths({ repoRoot, worktree: real, links }, log));
    } catch (err) {
      // Nobody else knows this worktree yet: remove it here, or it would be left behind.
      await this.options.mutex.run(gitDir, () => this.removeLocked(repoRoot, gitDir, real, log));
      throw err;
    }
    const worktree = { path: real, workspace: prefix === '' ? real : join(real, prefix), repoRoot, gitDir, branch, base, carried, linked };
    log.info('worktree created', { worktree: real, branch, base, carried, linked });
    return worktree;
  }

  /** Removes the worktree and its metadata (never a global prune); failures are logged, never thrown. */
  async close(worktree: SubtaskWorktree, log: Logger): Promise<void> {
    await this.options.mutex.run(worktree.gitDir, () => this.removeLocked(worktree.repoRoot, worktree.gitDir, worktree.path, log));
  }

  /**
   * Keeps the worktree's state (committed or not, untracked files included) as one commit on top
   * of the attempt's base under `refs/maestro/carried/<task>/<subtask>`, for the next attempt.
   * Returns whether anything was kept.
   */
  async keepUnfinished(worktree: SubtaskWorktree, work: SubtaskWork, log: Logger): Promise<boolean> {
    try {
      await gitOk(worktree.path, ['add', '-A']);
      const tree = await gitOk(worktree.path, ['write-tree']);
      const baseTree = await gitOk(worktree.path, ['rev-parse', `${worktree.base}^{tree}`]);
      const ref = MaestroRefs.carried(work.taskId, work.subtaskId);
      if (tree === baseTree) {
        await runGit(worktree.repoRoot, ['update-ref', '-d', ref]);
        return false;
      }
      const identity = await identityArgs(worktree.path);
      const commit = await gitOk(worktree.path, [...identity, 'commit-tree', tree, '-p', worktree.base, '-m', `maestro: unfinished work of ${work.workId}`]);
      await gitOk(worktree.repoRoot, ['update-ref', '-m', 'maestro: unfinished work', ref, commit]);
      log.info('unfinished work kept for the next attempt', { ref, commit });
      return true;
    } catch (err) {
      log.warn('unfinished work could not be kept; the next attempt starts from the task branch', { err: toMaestroError(err) });
      return false;
    }
  }

  /** Forgets the subtask's carried work (its commit reached the task branch). */
  async dropCarried(repoRoot: string, work: SubtaskWork): Promise<void> {
    await runGit(repoRoot, ['update-ref', '-d', MaestroRefs.carried(work.taskId, work.subtaskId)]);
  }

  /**
   * Removes every worktree in this executor's directory. Called at start, before any work runs,
   * so each one there is an orphan of an earlier process with this executor id (a crash, a kill).
   * Then records who owns the directory now (see {@link writeMarker}).
   */
  async removeOrphans(log: Logger): Promise<number> {
    const removed = await this.removeWorktreesIn(this.directory, log);
    await this.writeMarker(log);
    return removed;
  }

  /**
   * Removes the worktrees of executors that ran on this host with the default id
   * `<hostname>-<pid>` and are gone (no such process, or the pid now belongs to a process that
   * started at another time than their marker says), with their directories. Their ids changed
   * with their process, so {@link removeOrphans} of a later process never finds them. Returns
   * how many worktrees were removed.
   */
  async removeDeadExecutors(log: Logger, host: string = hostname()): Promise<number> {
    let entries: string[];
    try {
      entries = await readdir(this.options.root);
    } catch {
      return 0;
    }
    const own = basename(this.directory);
    let removed = 0;
    for (const entry of entries) {
      if (entry === own) continue;
      const pid = pidOfDefaultIdDirectory(entry, host);
      if (pid === undefined) continue;
      const dir = join(this.options.root, entry);
      const marker = parseExecutorMarker(await readFile(join(dir, EXECUTOR_MARKER_FILE), 'utf8').catch(() => ''));
      if (!(await isExecutorGone(pid, marker))) continue;
      const count = await this.removeWorktreesIn(dir, log);
      await rm(dir, { recursive: true, force: true });
      log.info('worktrees of a dead executor removed', { directory: dir, pid, worktrees: count });
      removed += count;
    }
    return removed;
  }

  /**
   * Records in this executor's directory who owns it (id, host, pid and the kernel's start
   * time of this process), so a later executor tells this process from one reusing its pid.
   */
  private async writeMarker(log: Logger): Promise<void> {
    const marker: ExecutorMarker = { executorId: this.options.executorId, hostname: hostname(), pid: process.pid };
    const startTime = await processStartTime(process.pid);
    if (startTime !== undefined) marker.startTime = startTime;
    try {
      await mkdir(this.directory, { recursive: true });
      await writeFile(join(this.directory, EXECUTOR_MARKER_FILE), `${JSON.stringify(marker)}\n`);
    } catch (err) {
      log.warn('executor marker not written; a later executor cannot tell a reused pid from this one', { err: toMaestroError(err) });
    }
  }

  /** Removes every worktree in `dir` (git worktree remove --force + prune in the repository each belongs to). */
  private async removeWorktreesIn(dir: string, log: Logger): Promise<number> {
    let entries: string[];
    try {
      entries = await readdir(dir);
    } catch {
      return 0;
    }
    let removed = 0;
    for (const entry of entries) {
      if (entry === EXECUTOR_MARKER_FILE) continue;
      const path = join(dir, entry);
      const gitDir = await commonGitDirOf(path);
      if (gitDir !== undefined) {
        await this.options.mutex.run(gitDir, async () => {
          const result = await runWorktreeGit(dirname(path), ['--git-dir', gitDir, 'worktree', 'remove', '--force', '--force', path], this.retry);
          if (result.code !== 0) {
            await rm(path, { recursive: true, force: true });
            await removeWorktreeMetadata(gitDir, path);
          }
        });
      } else {
        await rm(path, { recursive: true, force: true });
      }
      removed++;
      log.info('orphaned worktree removed', { worktree: path, gitDir });
    }
    return removed;
  }

  /** Carries the subtask's unfinished work of an earlier attempt into a fresh worktree, as uncommitted changes. */
  private async carryIn(path: string, repoRoot: string, work: SubtaskWork, log: Logger): Promise<boolean> {
    const carried = await resolveCommit(repoRoot, MaestroRefs.carried(work.taskId, work.subtaskId));
    if (carried === undefined) return false;
    const picked = await runGit(path, ['cherry-pick', '--no-commit', carried]);
    if (picked.code !== 0) {
      await runGit(path, ['cherry-pick', '--abort']);
      await runGit(path, ['reset', '--hard', '-q']);
      await runGit(path, ['clean', '-fdq']);
      log.warn('unfinished work of the earlier attempt does not apply to the task branch; starting without it', {
        carried,
        output: (picked.stderr || picked.stdout).trim().slice(0, 500),
      });
      return false;
    }
    // Unstaged, as the earlier attempt left it: the agent decides what to commit.
    await gitOk(path, ['reset', '-q']);
    return true;
  }

  /**
   * `git worktree remove --force --force` (it is locked); when git cannot (the directory is
   * already gone or broken), the directory and this worktree's own metadata are removed by hand.
   * Never `git worktree prune`: it judges every worktree of the repository, and one on another
   * host, whose path does not exist here, would lose its metadata.
   */
  private async removeLocked(repoRoot: string, gitDir: string, path: string, log: Logger): Promise<void> {
    const removed = await runWorktreeGit(repoRoot, ['worktree', 'remove', '--force', '--force', path], this.retry);
    if (removed.code !== 0) {
      await rm(path, { recursive: true, force: true }).catch((err: unknown) => log.warn('worktree directory not removed', { worktree: path, err: toMaestroError(err) }));
      const dropped = await removeWorktreeMetadata(gitDir, path);
      if (dropped === 0) log.debug('no worktree metadata to remove', { worktree: path });
    }
    log.debug('worktree removed', { worktree: path });
  }
}

/**
 * Removes the metadata (`<common dir>/worktrees/<name>`) of the worktree at `path` only: the
 * entry whose `gitdir` file points at `<path>/.git`. Returns how many entries were removed.
 */
async function removeWorktreeMetadata(gitDir: string, path: string): Promise<number> {
  const adminRoot = join(gitDir, 'worktrees');
  const wanted = new Set([join(path, '.git'), join(await realpath(dirname(path)).catch(() => dirname(path)), basename(path), '.git')]);
  let removed = 0;
  for (const name of await readdir(adminRoot).catch(() => [] as string[])) {
    const pointer = await readFile(join(adminRoot, name, 'gitdir'), 'utf8').catch(() => undefined);
    if (pointer === undefined || !wanted.has(pointer.trim())) continue;
    await rm(join(adminRoot, name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}

/** The common git directory a worktree belongs to, from its `.git` file, or undefined. */
async function commonGitDirOf(worktree: string): Promise<string | undefined> {
  try {
    const text = await readFile(join(worktree, '.git'), 'utf8');
    const match = /^gitdir:\s*(.+)$/m.exec(text);
    if (match === null) return undefined;
    const adminDir = resolve(worktree, match[1]!.trim());
    const common = resolve(adminDir, '..', '..');
    return existsSync(common) ? await realpath(common) : undefined;
  } catch {
    return undefined;
  }
}
