/**
 * Every environment variable the workflow-engine reads, once: name, type, default, meaning.
 * `loadWorkflowEngineConfig()` runs once in `main.ts`; nothing else reads `process.env`.
 */
import { commonEnv, env, grpcAddrEnv, loadConfig, metricsPortEnv, type ConfigOf } from '@maestro/runtime';
import { postgresRunStoreDefaults } from './store/postgres-run-store.js';
import { DEFAULT_RESULT_CONCURRENCY } from './transport/nats/activity-result.subscriber.js';

/** The engine's configuration spec (also rendered into the README's table). */
export const workflowEngineConfigSpec = {
  logLevel: commonEnv.logLevel,
  natsUrl: commonEnv.natsUrl,
  natsNamespace: commonEnv.natsNamespace,
  busSigningKey: commonEnv.busSigningKey,
  busUnsigned: commonEnv.busUnsigned,
  databaseUrl: commonEnv.databaseUrl,
  otlpEndpoint: commonEnv.otlpEndpoint,
  grpcAddr: grpcAddrEnv.workflowEngine,
  metricsHost: commonEnv.metricsHost,
  grpcTlsCa: commonEnv.grpcTlsCa,
  grpcTlsCert: commonEnv.grpcTlsCert,
  grpcTlsKey: commonEnv.grpcTlsKey,
  grpcTlsRefreshS: commonEnv.grpcTlsRefreshS,
  grpcPlaintext: commonEnv.grpcPlaintext,
  grpcHealthPort: commonEnv.grpcHealthPort,
  metricsPort: metricsPortEnv.workflowEngine,
  migrateOnStart: env.bool('MAESTRO_WORKFLOW_ENGINE_MIGRATE_ON_START', {
    default: true,
    doc: 'apply pending migrations of the workflow schema at start (false when an init container runs migrate.js)',
  }),
  resultConcurrency: env.int('MAESTRO_WORKFLOW_ENGINE_RESULT_CONCURRENCY', {
    default: DEFAULT_RESULT_CONCURRENCY,
    min: 1,
    max: 64,
    doc: 'activity results applied at once by this process',
  }),
  stepBatch: env.int('MAESTRO_WORKFLOW_ENGINE_STEP_BATCH', {
    default: postgresRunStoreDefaults.stepBatch,
    min: 1,
    max: 1000,
    doc: 'steps of different runs committed together in one statement when they arrive while a commit is in flight (group commit); 1: every step commits alone',
  }),
  watchPollMs: env.int('MAESTRO_WORKFLOW_ENGINE_WATCH_POLL_MS', {
    default: 5000,
    min: 100,
    max: 600_000,
    doc: 'WatchRun re-reads a run at least this often (covers changes made by other replicas)',
  }),
  sweepMs: env.int('MAESTRO_WORKFLOW_ENGINE_SWEEP_MS', {
    default: 5000,
    min: 100,
    max: 600_000,
    doc: 'how often the engine looks for activities past their meta.timeoutMs and fails them (ACTIVITY_TIMEOUT)',
  }),
} as const;

/** The engine's validated, frozen configuration. */
export type WorkflowEngineConfig = ConfigOf<typeof workflowEngineConfigSpec>;

/** Reads and validates the configuration; throws ConfigError naming every bad variable. */
export function loadWorkflowEngineConfig(source: Record<string, string | undefined> = process.env): WorkflowEngineConfig {
  return loadConfig(workflowEngineConfigSpec, source);
}
