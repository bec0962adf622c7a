/**
 * The port through which preflight looks at (and, where it is certainly safe, repairs) the
 * machine: sockets, `/proc`, the file system, git, and the test command. The rules that judge
 * what it sees are pure (`preflight-rules.ts`); the adapters live in `store/`.
 */
import type { Clock } from '@maestro/runtime';

/** Whether a port could be bound on one loopback address. */
export interface PortObservation {
  host: string;
  port: number;
  /** `unavailable`: the host has no such address (no IPv6), so nothing can listen there either. */
  state: 'free' | 'in-use' | 'unavailable';
  /** The bind error, when not free. */
  detail?: string;
}

/** A live process that may be holding `index.lock`, and why preflight thinks so. */
export interface LockHolder {
  pid: number;
  /** Its command name (`/proc/<pid>/comm`). */
  command: string;
  /** `open-file`: it has the lock or another file of the git dir open; `git-cwd`: a git process working in the repository. */
  reason: 'open-file' | 'git-cwd';
}

/**
 * Which file a lock observation saw: device, inode and modification time. A lock removed and
 * created again by another git in the meantime differs in at least one of them.
 */
export interface FileIdentity {
  dev: number;
  ino: number;
  mtimeMs: number;
}

/** What is at `<git-dir>/index.lock`. */
export type IndexLockObservation =
  | { present: false; path: string }
  | {
      present: true;
      path: string;
      /** The file that was judged; removal re-checks it is still this one. */
      identity: FileIdentity;
      /** Time since the lock file was last modified. */
      ageMs: number;
      holders: LockHolder[];
      /**
       * Processes that might hold the lock but whose cwd or open files could not be read. When
       * preflight does not run as root, only processes of its own uid count (see
       * `proc-lock-inspector.ts`).
       */
      uninspectable: number;
    };

/**
 * What removing a stale lock did: `removed` the very file that was judged; `gone` (someone else
 * removed it first); `changed`: the file at the path was another one by then (a new git's
 * lock), so it was put back untouched — or, when a third lock appeared meanwhile and it could
 * not be put back, left at `quarantine` for a person to look at.
 */
export type StaleLockRemoval =
  | { kind: 'removed' }
  | { kind: 'gone' }
  | { kind: 'changed'; restored: true }
  | { kind: 'changed'; restored: false; quarantine: string };

/** Operations git leaves half-done, by the file that marks them in the git dir. */
export const GitOperations = {
  merge: 'merge',
  rebase: 'rebase',
  cherryPick: 'cherry-pick',
  revert: 'revert',
  bisect: 'bisect',
} as const;
export type GitOperation = (typeof GitOperations)[keyof typeof GitOperations];

/** The repository as git leaves it on disk. */
export interface RepositoryState {
  /** The work tree's own git dir (`.git`, or `.git/worktrees/<name>` for a worktree). */
  gitDir: string;
  /** The dir shared by the repository and its worktrees. */
  commonDir: string;
  /** Operations in progress (MERGE_HEAD, rebase-merge / rebase-apply, CHERRY_PICK_HEAD, REVERT_HEAD, BISECT_LOG). */
  inProgress: GitOperation[];
  /** HEAD points at a commit, not a branch. */
  detachedHead: boolean;
  /** HEAD resolves to a commit (false in a repository without commits). */
  hasCommit: boolean;
}

/** A process we recorded in the repository's registry, and what became of it. */
export interface RecordedProcessView {
  /** Registry file, to drop the entry. */
  file: string;
  pid: number;
  /** The recorded start time (`/proc/<pid>/stat` field 22): the pid is this process only while it matches. */
  startTicks: number;
  argv: string[];
  /** The command line the process must still show (`/proc/<pid>/cmdline`) to be signalled. */
  cmdline: string[];
  startedAt: string;
  /**
   * `gone`: no process with that pid and start time; `other-boot`: recorded before the machine
   * restarted; `other-namespace`: recorded in another PID namespace, so its pid means nothing
   * here; `in-use`: alive, and whoever started it is alive too; `orphaned`: alive, and whoever
   * started it is gone.
   */
  state: 'gone' | 'other-boot' | 'other-namespace' | 'in-use' | 'orphaned';
}

/**
 * How stopping an orphaned process ended. `not-ours`: it was not signalled, because it no longer
 * shows the recorded command line or does not work inside the repository or its worktrees.
 */
export type StopOutcome = 'stopped-by-sigterm' | 'stopped-by-sigkill' | 'still-running' | 'not-permitted' | 'not-ours';

/** A {@link StopOutcome} with the reason for `not-ours`. */
export interface StopResult {
  outcome: StopOutcome;
  reason?: string;
}

/** One run of the test command on the untouched HEAD. */
export interface BaselineRun {
  exitCode: number | null;
  timedOut: boolean;
  /** The command could not be started, or the worktree could not be made. */
  error?: string;
  /** The output, capped; enough to name the failing tests. */
  output: string;
  /** Characters of output dropped (names may be missing then). */
  truncated: number;
  /** Where it ran (the temporary worktree's real path): file names in the output are relative to it. */
  cwd?: string;
  /** Housekeeping done around the run (baseline worktrees a crashed orchestrator left, removed). */
  notes?: string[];
}

/** The machine, as preflight sees it. */
export interface PreflightProbe {
  /** Where `name` resolves: a path (relative to `cwd`) when it has a `/`, else on `PATH`; undefined when not found or not executable. */
  findExecutable(name: string, cwd: string): Promise<string | undefined>;
  repositoryState(repoPath: string): Promise<RepositoryState>;
  /** Tries to bind `host:port` and releases it at once. */
  portState(host: string, port: number): Promise<PortObservation>;
  indexLock(state: RepositoryState, repoPath: string): Promise<IndexLockObservation>;
  /**
   * Removes the lock preflight judged stale, only if the file at its path is still the one
   * observed (same device, inode and modification time); see {@link StaleLockRemoval}.
   */
  removeStaleLock(lock: Extract<IndexLockObservation, { present: true }>): Promise<StaleLockRemoval>;
  /** Bytes available to an unprivileged user on the file system holding `path`. */
  freeDiskBytes(path: string): Promise<number>;
  /**
   * The registry entries of the repository (`commonDir`), each classified, and the directories
   * a recorded process must work in to be signalled: `repoPath` and every worktree git lists.
   */
  recordedProcesses(commonDir: string, repoPath: string): Promise<{ processes: RecordedProcessView[]; unreadable: string[]; trustedRoots: string[] }>;
  /**
   * SIGTERM to the process group we started, SIGKILL after `graceMs` of `clock` time; before each
   * signal, skips a process that is not the recorded command working inside `trustedRoots`.
   */
  stopProcess(process: RecordedProcessView, graceMs: number, clock: Clock, trustedRoots: readonly string[]): Promise<StopResult>;
  /** Drops a registry file. */
  dropRecord(file: string): Promise<void>;
  /** Runs `testCommand` once in a temporary detached worktree of HEAD, which is removed afterwards. */
  runBaseline(repoPath: string, testCommand: readonly string[], timeoutMs: number, signal: AbortSignal): Promise<BaselineRun>;
}
