/**
 * Every environment variable the executor reads, declared once. `main.ts` loads it with
 * `loadConfig(executorConfigSpec)`; nothing else reads `process.env`.
 */
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCommandPrefixes, sandboxEnv } from '@maestro/agent';
import { commonEnv, env, grpcAddrEnv, metricsPortEnv, repoRootsEnv, tenantRepoRootsEnv, type ConfigOf, type EnvVar } from '@maestro/runtime';
import { parseWorktreeLinks } from './domain/worktree-links.js';

/**
 * The defaults of the worktree, lock and merge settings, in one place: the environment spec
 * below and `createExecutor` (for settings given in code) both read them.
 */
export const WorkspaceDefaults = {
  /** Root of the executors' worktrees; each executor works under `<root>/<executorId>/`. */
  worktreeRoot: join(tmpdir(), 'maestro-worktrees'),
  /** How long a write waits for an undeclared concern held by someone else. */
  lockWaitMs: 30_000,
  /** How long a subtask waits for its declared concerns before the agent starts. */
  declaredLockWaitMs: 60_000,
  /** How long a merge waits for the repository's `git-index` concern. */
  mergeLockWaitMs: 60_000,
  /** Merges tried per subtask attempt; a conflict before the last one goes back to the agent. */
  mergeAttempts: 2,
  /**
   * Repository-relative paths linked from the repository's checkout into every worktree when
   * they exist there and git does not track them (installed dependencies a test command needs).
   */
  worktreeLinks: ['node_modules'] as readonly string[],
} as const;

/**
 * The defaults of recalling memories for a subtask, in one place: the environment spec below and
 * `createExecutor` (for settings given in code) both read them.
 */
export const RecallDefaults = {
  /**
   * How long the recall before an agent starts may take. Memory is a nicety: a slow memory
   * service costs the subtask its notes after this long, never more.
   */
  deadlineMs: 3_000,
  /** Memories asked for per subtask; the agent loop puts the best in its prompt within its token budget. */
  limit: 10,
} as const;

/** The executor's configuration spec: shared variables plus the executor's own. */
export const executorConfigSpec = {
  ...commonEnv,
  /** Where the admin gRPC server (health, status, drain) listens; port 0 picks a free port. */
  grpcAddr: grpcAddrEnv.executor,
  metricsPort: metricsPortEnv.executor,
  routerAddr: grpcAddrEnv.router,
  lockManagerAddr: grpcAddrEnv.lockManager,
  /** Optional: without it agents get no recalled memories (the executor says so at start). */
  memoryAddr: {
    ...grpcAddrEnv.memory,
    default: '',
    doc: 'memory gRPC address the agents recall preferences, project context and reflexes from; empty: no recall (said at start)',
  },
  recallDeadlineMs: env.int('MAESTRO_EXECUTOR_RECALL_DEADLINE_MS', {
    default: RecallDefaults.deadlineMs,
    min: 100,
    max: 60_000,
    doc: 'how long the recall before a subtask may take; a slower or unreachable memory service only costs the subtask its memories',
  }),
  recallLimit: env.int('MAESTRO_EXECUTOR_RECALL_LIMIT', {
    default: RecallDefaults.limit,
    min: 1,
    max: 50,
    doc: "memories recalled per subtask; the agent puts the best of them in its prompt within the prompt's memory token budget",
  }),
  // It names a directory (<root>/<executorId>/) and sits in lock owners, which are split at ':'
  // (`executor:<executorId>:<taskId>:<subtaskId>`), so neither '/' nor ':' may appear in it.
  executorId: env.matching('MAESTRO_EXECUTOR_ID', /^[A-Za-z0-9._-]+$/, "letters, digits, '.', '_' and '-' (no ':' or '/')", {
    default: `${hostname()}-${process.pid}`,
    doc: 'name of this executor in results, events and lock owners (default <hostname>-<pid>); letters, digits, ., _ and -',
  }),
  concurrency: env.int('MAESTRO_EXECUTOR_CONCURRENCY', {
    default: 2,
    min: 1,
    max: 64,
    doc: 'subtasks this executor works on at once',
  }),
  // The rule summariser is deterministic, costs nothing and is what bench/context measures; a
  // model summary words older turns better at the price of one tactical call per condensation.
  summariser: env.oneOf('MAESTRO_EXECUTOR_SUMMARISER', ['rule', 'model'], {
    default: 'rule',
    doc: 'who summarises older agent turns when the context is condensed: rule (by rule, no model call) or model (the tactical model, its tokens counted in the subtask budget; the rule stands in when it fails)',
  }),
  maxSteps: env.int('MAESTRO_EXECUTOR_MAX_STEPS', {
    default: 30,
    min: 1,
    max: 1000,
    doc: 'agent loop step budget per subtask',
  }),
  maxDeliver: env.int('MAESTRO_EXECUTOR_MAX_DELIVER', {
    default: 5,
    min: 1,
    max: 100,
    doc: 'deliveries of one work item before it is dead-lettered and reported failed',
  }),
  ackWaitMs: env.int('MAESTRO_EXECUTOR_ACK_WAIT_MS', {
    default: 15_000,
    min: 1_000,
    max: 3_600_000,
    doc: "JetStream ack wait, and the TTL of each attempt's work lease; live work signals progress every third of it, so a dead executor's work is redelivered within it",
  }),
  lockTtlMs: env.int('MAESTRO_LOCK_TTL_MS', {
    default: 60_000,
    min: 1_000,
    max: 3_600_000,
    doc: 'time to live of lock leases; held leases are extended every third of it',
  }),
  worktreeRoot: env.string('MAESTRO_EXECUTOR_WORKTREE_ROOT', {
    default: WorkspaceDefaults.worktreeRoot,
    doc: 'directory of the git worktrees subtasks work in; this executor uses <root>/<executorId>/ and clears it at start',
  }),
  lockWaitMs: env.int('MAESTRO_EXECUTOR_LOCK_WAIT_MS', {
    default: WorkspaceDefaults.lockWaitMs,
    min: 0,
    max: 3_600_000,
    doc: 'how long a write waits for a concern it did not declare, held by another subtask, before the write fails',
  }),
  declaredLockWaitMs: env.int('MAESTRO_EXECUTOR_DECLARED_LOCK_WAIT_MS', {
    default: WorkspaceDefaults.declaredLockWaitMs,
    min: 0,
    max: 3_600_000,
    doc: "how long a subtask waits for its declared concerns before the agent starts (then it is handed back)",
  }),
  mergeLockWaitMs: env.int('MAESTRO_EXECUTOR_MERGE_LOCK_WAIT_MS', {
    default: WorkspaceDefaults.mergeLockWaitMs,
    min: 0,
    max: 3_600_000,
    doc: "how long a finished subtask waits for the repository's git-index concern to merge into the task branch",
  }),
  mergeAttempts: env.int('MAESTRO_EXECUTOR_MERGE_ATTEMPTS', {
    default: WorkspaceDefaults.mergeAttempts,
    min: 1,
    max: 10,
    doc: 'merges tried per subtask attempt; a conflict before the last goes back to the agent, after it the subtask escalates (merge_conflict)',
  }),
  worktreeLinks: checked(
    env.list('MAESTRO_EXECUTOR_WORKTREE_LINKS', {
      default: [...WorkspaceDefaults.worktreeLinks],
      doc: 'comma-separated repository-relative paths (a segment may be *) linked from the checkout into each worktree when present and untracked; "none" links nothing',
    }),
    parseWorktreeLinks,
  ),
  // Argv prefixes added to the command policy's defaults; deny rules are checked before any allow rule.
  commandAllow: checked(
    env.string('MAESTRO_COMMAND_ALLOW', {
      default: '',
      doc: 'argv prefixes the agents\' exec and the test gate may also run: comma-separated ("make lint, tox") or JSON ([["make","lint"]]); empty: the default allow rules only',
    }),
    checkCommandPrefixes,
  ),
  commandDeny: checked(
    env.string('MAESTRO_COMMAND_DENY', {
      default: '',
      doc: 'argv prefixes refused on top of the default deny rules, before any allow rule: comma-separated ("npm publish") or JSON ([["npm","publish"]])',
    }),
    checkCommandPrefixes,
  ),
  // The sandbox of every command an agent or the test gate runs (see @maestro/agent sandbox/).
  sandbox: sandboxEnv.mode('MAESTRO_SANDBOX'),
  allowUnsandboxed: sandboxEnv.allowUnsandboxed('MAESTRO_ALLOW_UNSANDBOXED'),
  sandboxNetwork: sandboxEnv.network('MAESTRO_SANDBOX_NETWORK'),
  sandboxReadPaths: sandboxEnv.readPaths('MAESTRO_SANDBOX_READ_PATHS', { default: [] }),
  sandboxAllowUnlimitedProcesses: sandboxEnv.allowUnlimitedProcesses('MAESTRO_SANDBOX_ALLOW_UNLIMITED_PROCESSES'),
  sandboxMinFreeDiskMib: sandboxEnv.minFreeDiskMib('MAESTRO_SANDBOX_MIN_FREE_DISK_MIB'),
  // The same variable as the orchestrator's: checked again right before a repository is touched.
  repoRoots: repoRootsEnv('MAESTRO_REPO_ROOTS'),
  // The same variable as the orchestrator's: work is checked against its tenant's roots again.
  // Each tenant root must lie within MAESTRO_REPO_ROOTS (checked by createExecutor, at start).
  tenantRepoRoots: tenantRepoRootsEnv('MAESTRO_TENANT_REPO_ROOTS'),
  drainTimeoutMs: env.int('MAESTRO_EXECUTOR_DRAIN_TIMEOUT_MS', {
    default: 25_000,
    min: 0,
    max: 3_600_000,
    doc: 'on SIGTERM, how long in-flight subtasks may run before they are aborted and handed back (nak)',
  }),
} as const;

/** `variable` with `check` run on its parsed value (a throw names the variable, like any parse error). */
function checked<T>(variable: EnvVar<T>, check: (value: T) => T): EnvVar<T> {
  return { ...variable, parse: (raw) => check(variable.parse(raw)) };
}

/** Fails fast (the loader names the variable) when a command prefix list cannot be read. */
function checkCommandPrefixes(value: string): string {
  parseCommandPrefixes(value);
  return value;
}

/** The executor's validated, frozen configuration. */
export type ExecutorConfig = ConfigOf<typeof executorConfigSpec>;
