/**
 * `PreflightProbe` over this machine: sockets for ports, `/proc` for lock holders and recorded
 * processes, `fs` for disk space, executables and git's marker files, the `git` binary for the
 * repository's dirs and HEAD, and a temporary worktree for the baseline. Linux only where it
 * reads `/proc`.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, link, realpath, rename, rm, stat, statfs, unlink } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Sandbox } from '@maestro/agent';
import { OperationalError, safeGitArgs, safeGitEnv, systemClock, type Clock } from '@maestro/runtime';
import {
  GitOperations,
  type BaselineRun,
  type GitOperation,
  type IndexLockObservation,
  type PortObservation,
  type PreflightProbe,
  type RecordedProcessView,
  type RepositoryState,
  type StaleLockRemoval,
  type StopResult,
} from '../domain/preflight/preflight-probe.js';
import { runBaselineInWorktree } from './git-baseline-runner.js';
import { listWorktrees } from './git-worktree-list.js';
import { probePort } from './socket-port-probe.js';
import { fileIdentity, scanLockHolders } from './proc-lock-inspector.js';
import { dropRecordFile, readRecordedProcesses, stopRecordedProcess } from './process-registry-sweeper.js';

const execFileAsync = promisify(execFile);

/** Options of {@link FsPreflightProbe}. */
export interface FsPreflightProbeOptions {
  /** The git executable. @default 'git' */
  gitBinary?: string;
  /** Longest one git query may take. @default 10000 */
  gitTimeoutMs?: number;
  /**
   * Directories searched for a program named without a `/`, in order: the PATH this process
   * would itself spawn the program with. @default the process's PATH
   */
  searchPath?: string;
  /** Where baseline worktrees are made. @default os.tmpdir() */
  tmpDir?: string;
  /** Source of "now" for the age of a lock file (compared with its modification time). @default systemClock */
  clock?: Pick<Clock, 'now'>;
  /** Confines the baseline test run (see `runBaselineInWorktree`). @default none: it runs unsandboxed */
  sandbox?: Sandbox;
}

/** The files in a git dir that mark an operation in progress. */
const OPERATION_MARKERS: ReadonlyArray<[string, GitOperation]> = [
  ['MERGE_HEAD', GitOperations.merge],
  ['rebase-merge', GitOperations.rebase],
  ['rebase-apply', GitOperations.rebase],
  ['CHERRY_PICK_HEAD', GitOperations.cherryPick],
  ['REVERT_HEAD', GitOperations.revert],
  ['BISECT_LOG', GitOperations.bisect],
];

function errorCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

/** Looks at this machine for preflight. */
export class FsPreflightProbe implements PreflightProbe {
  private readonly git: string;
  private readonly gitTimeoutMs: number;
  private readonly searchPath: string;
  private readonly tmpDir: string | undefined;
  private readonly clock: Pick<Clock, 'now'>;
  private readonly sandbox: Sandbox | undefined;

  constructor(options: FsPreflightProbeOptions = {}) {
    this.git = options.gitBinary ?? 'git';
    this.gitTimeoutMs = options.gitTimeoutMs ?? 10_000;
    // The PATH spawn itself would search; read once here, the one place this adapter needs it.
    this.searchPath = options.searchPath ?? process.env.PATH ?? '';
    this.tmpDir = options.tmpDir;
    this.clock = options.clock ?? systemClock;
    this.sandbox = options.sandbox;
  }

  async findExecutable(name: string, cwd: string): Promise<string | undefined> {
    const candidates = name.includes('/')
      ? [path.resolve(cwd, name)]
      : this.searchPath.split(path.delimiter).filter((dir) => dir !== '').map((dir) => path.join(dir, name));
    for (const candidate of candidates) {
      try {
        await access(candidate, constants.X_OK);
        if ((await stat(candidate)).isFile()) return candidate;
      } catch {
        // Not there or not executable: try the next directory.
      }
    }
    return undefined;
  }

  /** Runs git in `repoPath`; its trimmed stdout, or undefined when it exits non-zero. */
  private async gitOutput(repoPath: string, args: readonly string[]): Promise<string | undefined> {
    try {
      const { stdout } = await execFileAsync(this.git, safeGitArgs(['-C', repoPath, ...args]), { timeout: this.gitTimeoutMs, env: safeGitEnv(process.env, { readOnly: true }) });
      return stdout.trim();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new OperationalError('GIT_MISSING', `the git binary "${this.git}" was not found`, { cause: err });
      if ((err as { killed?: boolean }).killed) {
        throw new OperationalError('GIT_TIMEOUT', `git ${args.join(' ')} in ${repoPath} took longer than ${this.gitTimeoutMs} ms`, { cause: err });
      }
      return undefined;
    }
  }

  async repositoryState(repoPath: string): Promise<RepositoryState> {
    const dirs = await this.gitOutput(repoPath, ['rev-parse', '--absolute-git-dir', '--git-common-dir']);
    const [gitDir, common] = (dirs ?? '').split('\n');
    if (gitDir === undefined || gitDir === '' || common === undefined || common === '') {
      throw new OperationalError('GIT_FAILED', `git rev-parse could not find the git dir of ${repoPath}`);
    }
    const commonDir = path.resolve(repoPath, common);
    const inProgress: GitOperation[] = [];
    for (const [marker, operation] of OPERATION_MARKERS) {
      if (!inProgress.includes(operation) && (await exists(path.join(gitDir, marker)))) inProgress.push(operation);
    }
    const branch = await this.gitOutput(repoPath, ['symbolic-ref', '-q', 'HEAD']);
    const head = await this.gitOutput(repoPath, ['rev-parse', '--verify', '-q', 'HEAD']);
    return { gitDir, commonDir, inProgress, detachedHead: branch === undefined, hasCommit: head !== undefined && head !== '' };
  }

  portState(host: string, port: number): Promise<PortObservation> {
    return probePort(host, port);
  }

  async indexLock(state: RepositoryState, repoPath: string): Promise<IndexLockObservation> {
    const [gitDir, commonDir, workTree] = await Promise.all([realpath(state.gitDir), realpath(state.commonDir), realpath(repoPath)]);
    const lockPath = path.join(gitDir, 'index.lock');
    const identity = await fileIdentity(lockPath);
    if (identity === undefined) return { present: false, path: lockPath };
    const scan = await scanLockHolders({ lockPath, workTree, gitDirs: [...new Set([gitDir, commonDir])] });
    return { present: true, path: lockPath, identity, ageMs: Math.max(0, this.clock.now() - identity.mtimeMs), holders: scan.holders, uninspectable: scan.uninspectable };
  }

  /**
   * Moves the lock to a quarantine name first (atomic), then compares what was moved with the
   * observation: the judged file is deleted; any other file (the user deleted the stale lock and
   * a new git made a fresh one since the /proc scan) is put back with `link`, which never
   * replaces a lock that appeared meanwhile. The fresh lock's git only notices if it commits in
   * the instant the file is away (its rename of index.lock then fails and it reports an error).
   */
  async removeStaleLock(lock: Extract<IndexLockObservation, { present: true }>): Promise<StaleLockRemoval> {
    const quarantine = `${lock.path}.maestro-stale-${randomBytes(6).toString('hex')}`;
    try {
      await rename(lock.path, quarantine);
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return { kind: 'gone' };
      throw err;
    }
    const moved = await fileIdentity(quarantine);
    if (moved !== undefined && moved.dev === lock.identity.dev && moved.ino === lock.identity.ino && moved.mtimeMs === lock.identity.mtimeMs) {
      await rm(quarantine, { force: true });
      return { kind: 'removed' };
    }
    try {
      await link(quarantine, lock.path);
    } catch (err) {
      if (errorCode(err) === 'EEXIST') return { kind: 'changed', restored: false, quarantine };
      throw err;
    }
    await unlink(quarantine);
    return { kind: 'changed', restored: true };
  }

  async freeDiskBytes(target: string): Promise<number> {
    const info = await statfs(target);
    return info.bavail * info.bsize;
  }

  async recordedProcesses(commonDir: string, repoPath: string): Promise<{ processes: RecordedProcessView[]; unreadable: string[]; trustedRoots: string[] }> {
    const { processes, unreadable } = readRecordedProcesses(commonDir);
    if (processes.length === 0) return { processes, unreadable, trustedRoots: [] };
    const worktrees = await listWorktrees(repoPath, { gitBinary: this.git, timeoutMs: this.gitTimeoutMs });
    // Real paths: /proc/<pid>/cwd is one. A worktree whose directory is gone keeps its path.
    const roots = await Promise.all([repoPath, ...worktrees.map((w) => w.path)].map((dir) => realpath(dir).catch(() => path.resolve(dir))));
    return { processes, unreadable, trustedRoots: [...new Set(roots)] };
  }

  stopProcess(process: RecordedProcessView, graceMs: number, clock: Clock, trustedRoots: readonly string[]): Promise<StopResult> {
    return stopRecordedProcess(process, graceMs, clock, trustedRoots);
  }

  async dropRecord(file: string): Promise<void> {
    dropRecordFile(file);
  }

  runBaseline(repoPath: string, testCommand: readonly string[], timeoutMs: number, signal: AbortSignal): Promise<BaselineRun> {
    return runBaselineInWorktree(repoPath, testCommand, timeoutMs, signal, {
      gitBinary: this.git,
      ...(this.tmpDir !== undefined ? { tmpDir: this.tmpDir } : {}),
      ...(this.sandbox !== undefined ? { sandbox: this.sandbox } : {}),
    });
  }
}
