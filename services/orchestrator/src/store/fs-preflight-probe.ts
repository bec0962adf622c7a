/**
 * `PreflightProbe` over this machine: sockets for ports, `/proc` for lock holders and recorded
 * processes, `fs` for disk space, executables and git's marker files, the `git` binary for the
 * repository's dirs and HEAD, and a temporary worktree for the baseline. Linux only where it
 * reads `/proc`.
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, realpath, rm, stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { OperationalError, systemClock, type Clock } from '@maestro/runtime';
import {
  GitOperations,
  type BaselineRun,
  type GitOperation,
  type IndexLockObservation,
  type PortObservation,
  type PreflightProbe,
  type RecordedProcessView,
  type RepositoryState,
  type StopOutcome,
} from '../domain/preflight/preflight-probe.js';
import { runBaselineInWorktree } from './git-baseline-runner.js';
import { probePort } from './socket-port-probe.js';
import { fileAgeMs, scanLockHolders } from './proc-lock-inspector.js';
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

  constructor(options: FsPreflightProbeOptions = {}) {
    this.git = options.gitBinary ?? 'git';
    this.gitTimeoutMs = options.gitTimeoutMs ?? 10_000;
    // The PATH spawn itself would search; read once here, the one place this adapter needs it.
    this.searchPath = options.searchPath ?? process.env.PATH ?? '';
    this.tmpDir = options.tmpDir;
    this.clock = options.clock ?? systemClock;
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
      const { stdout } = await execFileAsync(this.git, ['-C', repoPath, ...args], { timeout: this.gitTimeoutMs });
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
    const ageMs = await fileAgeMs(lockPath, this.clock.now());
    if (ageMs === undefined) return { present: false, path: lockPath };
    const scan = await scanLockHolders({ lockPath, workTree, gitDirs: [...new Set([gitDir, commonDir])] });
    return { present: true, path: lockPath, ageMs, holders: scan.holders, uninspectable: scan.uninspectable };
  }

  async removeFile(file: string): Promise<void> {
    await rm(file, { force: true });
  }

  async freeDiskBytes(target: string): Promise<number> {
    const info = await statfs(target);
    return info.bavail * info.bsize;
  }

  async recordedProcesses(commonDir: string): Promise<{ processes: RecordedProcessView[]; unreadable: string[] }> {
    return readRecordedProcesses(commonDir);
  }

  stopProcess(process: RecordedProcessView, graceMs: number, clock: Clock): Promise<StopOutcome> {
    return stopRecordedProcess(process, graceMs, clock);
  }

  async dropRecord(file: string): Promise<void> {
    dropRecordFile(file);
  }

  runBaseline(repoPath: string, testCommand: readonly string[], timeoutMs: number, signal: AbortSignal): Promise<BaselineRun> {
    return runBaselineInWorktree(repoPath, testCommand, timeoutMs, signal, {
      gitBinary: this.git,
      ...(this.tmpDir !== undefined ? { tmpDir: this.tmpDir } : {}),
    });
  }
}
