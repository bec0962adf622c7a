/**
 * Every environment variable the orchestrator reads, once: name, type, default and meaning.
 * `loadOrchestratorConfig` runs once in `main.ts`.
 */
import { commonEnv, env, grpcAddrEnv, loadConfig, type ConfigOf } from '@maestro/runtime';

/** The orchestrator's configuration spec (see the README for the table). */
export const orchestratorConfigSpec = {
  // The shared variables Orion uses (it has no Redis).
  logLevel: commonEnv.logLevel,
  natsUrl: commonEnv.natsUrl,
  natsNamespace: commonEnv.natsNamespace,
  databaseUrl: commonEnv.databaseUrl,
  otlpEndpoint: commonEnv.otlpEndpoint,
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
  stepRetentionDays: env.int('MAESTRO_ORCHESTRATOR_STEP_RETENTION_DAYS', {
    default: 30,
    min: 1,
    max: 3650,
    doc: 'agent steps of tasks that finished (succeeded, failed, cancelled) longer ago than this are deleted, hourly',
  }),
} as const;

/** The loaded, frozen configuration. */
export type OrchestratorConfig = ConfigOf<typeof orchestratorConfigSpec>;

/** Reads and validates the configuration; throws `ConfigError` naming every bad variable. */
export function loadOrchestratorConfig(source: Record<string, string | undefined> = process.env): OrchestratorConfig {
  return loadConfig(orchestratorConfigSpec, source);
}
