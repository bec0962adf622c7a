/**
 * Every environment variable the orchestrator reads, once: name, type, default and meaning.
 * `loadOrchestratorConfig` runs once in `main.ts`.
 */
import { parseCommandPrefixes, sandboxEnv } from '@maestro/agent';
import { checkTenantRepoRoots, commonEnv, env, grpcAddrEnv, loadConfig, metricsPortEnv, repoRootsEnv, tenantRepoRootsEnv, type ConfigOf } from '@maestro/runtime';
import { RecallBudgetDefaults } from './domain/recall-budget.js';

/** Checks a command prefix list (the loader names the variable on a throw) and keeps it as written. */
function checkCommandPrefixes(raw: string): string {
  parseCommandPrefixes(raw);
  return raw;
}

/** The orchestrator's configuration spec (see the README for the table). */
export const orchestratorConfigSpec = {
  // The shared variables Orion uses (it has no Redis).
  logLevel: commonEnv.logLevel,
  natsUrl: commonEnv.natsUrl,
  natsNamespace: commonEnv.natsNamespace,
  busSigningKey: commonEnv.busSigningKey,
  busUnsigned: commonEnv.busUnsigned,
  databaseUrl: commonEnv.databaseUrl,
  otlpEndpoint: commonEnv.otlpEndpoint,
  metricsHost: commonEnv.metricsHost,
  grpcTlsCa: commonEnv.grpcTlsCa,
  grpcTlsCert: commonEnv.grpcTlsCert,
  grpcTlsKey: commonEnv.grpcTlsKey,
  grpcTlsRefreshS: commonEnv.grpcTlsRefreshS,
  grpcPlaintext: commonEnv.grpcPlaintext,
  grpcHealthPort: commonEnv.grpcHealthPort,
  metricsPort: metricsPortEnv.orchestrator,
  grpcAddr: grpcAddrEnv.orchestrator,
  workflowEngineAddr: grpcAddrEnv.workflowEngine,
  routerAddr: grpcAddrEnv.router,
  memoryAddr: grpcAddrEnv.memory,
  concurrency: env.int('MAESTRO_ORCHESTRATOR_CONCURRENCY', {
    default: 4,
    min: 1,
    max: 64,
    doc: 'activity requests (plan, review, …) this replica handles at once',
  }),
  modelDeadlineMs: env.int('MAESTRO_ORCHESTRATOR_MODEL_DEADLINE_MS', {
    default: 180_000,
    min: 1_000,
    doc: 'deadline of one strategic model call through the router (plan, review)',
  }),
  rpcDeadlineMs: env.int('MAESTRO_ORCHESTRATOR_RPC_DEADLINE_MS', {
    default: 10_000,
    min: 100,
    doc: 'deadline of workflow-engine and memory calls',
  }),
  // Well under the gateway's 10 s SubmitTask deadline: a client that timed out would submit
  // again although the task is stored and its run starts in the background.
  inlineStartMs: env.int('MAESTRO_ORCHESTRATOR_INLINE_START_MS', {
    default: 3_000,
    min: 100,
    max: 9_000,
    doc: 'how long SubmitTask waits for the workflow-engine to start the run before returning the task pending (the start goes on in the background)',
  }),
  // At most 25 s: the process exits 30 s after SIGTERM whatever is still running (runService),
  // and the bus, clients and database close after the drain.
  drainTimeoutMs: env.int('MAESTRO_ORCHESTRATOR_DRAIN_TIMEOUT_MS', {
    default: 20_000,
    min: 0,
    max: 25_000,
    doc: 'on SIGTERM, how long in-flight activities may run before they are aborted and handed back (nak)',
  }),
  taskBudgetUsd: {
    name: 'MAESTRO_TASK_BUDGET_USD',
    doc: 'USD a task may spend on models when its submission sets no budget (0 = no limit); unpriced models count only in tokens',
    default: 10,
    parse: (raw: string): number => {
      const value = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(value) || value < 0) throw new Error(`expected a non-negative number of US dollars, got "${raw}"`);
      return value;
    },
  },
  // The same variables as the executor's: a test command SubmitTask accepts is one the executor's test gate runs.
  commandAllow: {
    name: 'MAESTRO_COMMAND_ALLOW',
    doc: 'argv prefixes a test command may also be (the executor reads the same variable): comma-separated ("make lint, tox") or JSON ([["tox"]])',
    default: '',
    parse: checkCommandPrefixes,
  },
  commandDeny: {
    name: 'MAESTRO_COMMAND_DENY',
    doc: 'argv prefixes refused as test commands on top of the default deny rules (the executor reads the same variable)',
    default: '',
    parse: checkCommandPrefixes,
  },
  // The same variable as the executor's, which checks again before it touches a repository.
  repoRoots: repoRootsEnv('MAESTRO_REPO_ROOTS'),
  // The same variable as the executor's; each tenant root must lie within MAESTRO_REPO_ROOTS
  // (checked by loadOrchestratorConfig, as it needs both variables).
  tenantRepoRoots: tenantRepoRootsEnv('MAESTRO_TENANT_REPO_ROOTS'),
  // The same variables as the executor's: preflight's baseline runs the repository's test
  // command, confined like an executor's test gate.
  sandbox: sandboxEnv.mode('MAESTRO_SANDBOX'),
  allowUnsandboxed: sandboxEnv.allowUnsandboxed('MAESTRO_ALLOW_UNSANDBOXED'),
  sandboxNetwork: sandboxEnv.network('MAESTRO_SANDBOX_NETWORK'),
  sandboxReadPaths: sandboxEnv.readPaths('MAESTRO_SANDBOX_READ_PATHS', { default: [] }),
  sandboxAllowUnlimitedProcesses: sandboxEnv.allowUnlimitedProcesses('MAESTRO_SANDBOX_ALLOW_UNLIMITED_PROCESSES'),
  sandboxMinFreeDiskMib: sandboxEnv.minFreeDiskMib('MAESTRO_SANDBOX_MIN_FREE_DISK_MIB'),
  taskBudgetTokens: env.int('MAESTRO_TASK_BUDGET_TOKENS', {
    default: 0,
    min: 0,
    doc: 'tokens (input + output) a task may spend when its submission sets no budget (0 = no limit)',
  }),
  stepRetentionDays: env.int('MAESTRO_ORCHESTRATOR_STEP_RETENTION_DAYS', {
    default: 30,
    min: 1,
    max: 3650,
    doc: 'agent steps of tasks that finished (succeeded, failed, cancelled) longer ago than this are deleted, hourly',
  }),
  maxEscalationsPerSubtask: env.int('MAESTRO_ORCHESTRATOR_MAX_ESCALATIONS_PER_SUBTASK', {
    default: 2,
    min: 0,
    max: 100,
    doc: 'escalations of one subtask put to the strategic model; past them the subtask fails (0 = never escalate)',
  }),
  maxEscalationsPerTask: env.int('MAESTRO_ORCHESTRATOR_MAX_ESCALATIONS_PER_TASK', {
    default: 6,
    min: 0,
    max: 1000,
    doc: "escalations of all of a task's subtasks put to the strategic model; past them a failing subtask fails",
  }),
  // The model words lessons better than a template and is asked only after an escalation was
  // fixed (rare, one short call); whenever it gives no usable lesson the rule words it anyway.
  reflexProposer: env.oneOf('MAESTRO_REFLEX_PROPOSER', ['strategic', 'rule'], {
    default: 'strategic',
    doc: 'who words a reflex learned from a verified fix: strategic (the strategic model, intent reflect; the rule when it gives no usable lesson) or rule',
  }),
  memoryTokens: env.int('MAESTRO_ORCHESTRATOR_MEMORY_TOKENS', {
    default: RecallBudgetDefaults.tokens,
    min: 0,
    max: 100_000,
    doc: 'tokens of recalled memory notes a plan or review prompt may hold (o200k_base); 0 = none',
  }),
  replyReAsks: env.int('MAESTRO_ORCHESTRATOR_REPLY_REASKS', {
    default: 2,
    min: 0,
    max: 10,
    doc: 'how often a plan, review or escalation reply that does not parse is asked again, with the parse error, before it fails',
  }),
} as const;

/** The loaded, frozen configuration. */
export type OrchestratorConfig = ConfigOf<typeof orchestratorConfigSpec>;

/**
 * Reads and validates the configuration; throws `ConfigError` naming every bad variable, and
 * `MAESTRO_TENANT_REPO_ROOTS` when a tenant root lies outside `MAESTRO_REPO_ROOTS`.
 */
export function loadOrchestratorConfig(source: Record<string, string | undefined> = process.env): OrchestratorConfig {
  const config = loadConfig(orchestratorConfigSpec, source);
  checkTenantRepoRoots(config.tenantRepoRoots, config.repoRoots);
  return config;
}
